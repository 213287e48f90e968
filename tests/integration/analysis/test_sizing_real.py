"""Sizing and `plan` on real runs (tests/support/sizing_runs.py): the embedded target
pinned to one core, a mix with about 20% sign-ins measured, a mix with 50% predicted
from it and then measured."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from authsurge.analysis import analyze_run
from authsurge.analysis.plan import Mix, predict
from authsurge.cli import main
from authsurge.pbkdf2 import REFERENCE_ITERATIONS
from tests.support.sizing_runs import SHARE_A, SHARE_B, SizingRuns


@pytest.fixture(scope="module")
def docs(sizing_runs: SizingRuns) -> tuple[dict, dict]:
    with analyze_run(sizing_runs.mix_a) as a, analyze_run(sizing_runs.mix_b) as b:
        return a.to_json(), b.to_json()


def measured_knee(doc: dict) -> float:
    """The lowest knee of the run, in journeys/s arriving; the run dropped no arrival (a
    dropped one never reached the target, but counts as arriving)."""
    assert doc["dropped"]["count"] == 0, doc["dropped"]
    reached = [e for e in doc["first_to_fail"] if e["reached"]]
    assert reached and reached[0]["rank_by"] == "journey arrivals/s", json.dumps(reached)
    return min(float(e["knee"]) for e in reached)


def measured_capacity(doc: dict) -> float:
    """The run's capacity in journeys/s, from two measurements of it: the first knee's
    arrivals, and the first step's capacity (its goodput at saturation) per arrival. Each
    overshoots in its own way on a ramp: the knee reads late when the queue must reach the
    timeout (+35% in one run), and a step's capacity reads high when the steps behind it
    fail and free the CPU (login.form at 142/s where the knee was 74, in a CI run). Within
    30% of each other they are two readings of one thing: their mean; further apart, one
    of them overshot: the lower."""
    first = next(e for e in doc["first_to_fail"] if e["reached"])["step"]
    per_arrival = predict(doc)["requests_per_arrival"][first]
    knee, capacity = measured_knee(doc), doc["steps"][first]["knee"]["capacity"] / per_arrival
    low, high = sorted((knee, capacity))
    return (low + high) / 2 if high <= 1.3 * low else low


def test_the_knee_of_another_mix_is_predicted_within_twenty_percent(
    sizing_runs: SizingRuns, docs: tuple[dict, dict]
) -> None:
    """The prediction is for the machine mix_a ran on. This VM's speed wanders from run to
    run (a CI run: 42 predicted, 78 measured on a core that ran ~1.9x faster), so the
    prediction is compared at the speed mix_b ran at: scaled by the ratio of the target's
    own hash CPU in the two runs, as measured inside the target."""
    a, b = docs
    plan = predict(a, Mix({"browse": 1 - SHARE_B, "sign_in": SHARE_B}))
    measured = measured_knee(b)
    predicted = plan["knee_arrivals"] * sizing_runs.speed_b_over_a
    error = predicted / measured - 1
    assert abs(error) <= 0.20, (plan["knee_arrivals"], sizing_runs.speed_b_over_a, measured,
                                plan["calibration"])
    # not just a bigger surge: half signing in costs far more per arrival than a fifth
    assert measured < 0.8 * measured_knee(a)
    assert plan["cause"] == "login.submit"


def test_a_surge_at_twice_the_capacity_of_the_pinned_core_needs_two_vcpus(
    sizing_runs: SizingRuns, docs: tuple[dict, dict], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, _ = docs
    assert a["steps"]["login.submit"]["bottleneck"]["target_cpu_count"] == 1  # taskset's one core
    scenario = tmp_path / "mean-mix.yaml"  # the run's mean mix, steady
    scenario.write_text(
        "name: mean-mix\ntarget: {base_url: 'http://127.0.0.1:9'}\n"
        "journeys:\n  browse: {steps: [form_login], abandon_after: login.form}\n"
        "  sign_in: {steps: [form_login]}\n"
        f"traffic: {{model: open, shape: {{kind: steady, rate: 10}}, "
        f"mix: {{browse: {1 - SHARE_A}, sign_in: {SHARE_A}}}}}\nrun: {{duration_s: 10}}\n"
    )
    peak = 2 * measured_capacity(a)
    code = main(["plan", str(sizing_runs.mix_a), "--scenario", str(scenario),
                 "--peak", f"{peak:.3f}/s", "--headroom", "0%", "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    plan = json.loads(out)
    assert plan["vcpus"] == pytest.approx(2.0, abs=0.4), plan
    assert plan["vcpus_with_headroom"] == plan["vcpus"]


def test_the_run_records_the_machine_reference(sizing_runs: SizingRuns, docs: tuple[dict, dict]) -> None:
    """The figure itself is hashlib's rate (tests/unit/test_pbkdf2.py). Here: each run
    records it, and within the speeds this VM shows. It runs at two speeds, 18 and 33
    hashes/s, switching within seconds (2026-12-01): a reading a second before the run
    cannot pin the run's own."""
    for doc in docs:
        reference = doc["sizing"]["reference"]
        assert reference["iterations"] == REFERENCE_ITERATIONS and reference["hashes"] >= 3
        assert 0.3 * sizing_runs.reference_rate <= reference["hashes_per_s_per_core"] \
            <= 3.0 * sizing_runs.reference_rate, (reference, sizing_runs.reference_rate)


def test_analyze_prints_a_sizing_line_per_step_with_the_reference(
    sizing_runs: SizingRuns, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["analyze", str(sizing_runs.mix_a), "--no-plots", "--peak", "1000/s"]) == 0
    out = capsys.readouterr().out
    assert "PBKDF2-SHA256 hashes/s per core" in out
    for step in ("login.form", "login.submit"):
        assert any(line.strip().startswith(f"{step}:") and "req/s per vCPU" in line
                   for line in out.splitlines()), out
    assert "the peak (1,000 journeys/s, stated) needs" in out


def test_plan_answers_what_a_ten_times_surge_needs(
    sizing_runs: SizingRuns, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", str(sizing_runs.mix_a), "--rate-scale", "10"]) == 0
    out = capsys.readouterr().out
    assert "predicted knee" in out and "vCPUs" in out and "with 150% headroom" in out


def test_plan_with_steps_the_run_never_measured_exits_2_naming_them(
    sizing_runs: SizingRuns, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "json.yaml"
    scenario.write_text(
        "name: app\ntarget: {base_url: 'http://127.0.0.1:9'}\n"
        "journeys:\n  app: {steps: [json_login, api]}\nflows: {json_login: {}}\n"
        "traffic: {model: open, shape: {kind: steady, rate: 5}}\nrun: {duration_s: 10}\n"
    )
    code = main(["plan", str(sizing_runs.mix_a), "--scenario", str(scenario)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "api.call, login.json" in err and "Traceback" not in err


def test_the_report_shows_the_sizing_table_and_the_prediction_beside_the_measurement(
    sizing_runs: SizingRuns, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    # two mixes are two scenarios: --force compares them
    assert main(["report", str(sizing_runs.mix_b), "--baseline", str(sizing_runs.mix_a),
                 "--force", "-o", str(out)]) == 0
    html = out.read_text()
    assert "<h2 id=\"sizing\">Sizing</h2>" in html and "PBKDF2-SHA256 hashes/s per core" in html
    assert "Predicted from the baseline, and measured" in html
    # the prediction's first row: predicted, measured and the error in percent
    assert re.search(r"<td>first knee \(journeys/s\)</td><td class=\"num\">[\d.,]+</td>"
                     r"<td class=\"num\">[\d.,]+</td><td class=\"num\">[+-]\d+%</td>", html), html



def test_the_leadership_summary_says_the_vcpus_and_the_step_that_dominates(
    sizing_runs: SizingRuns, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Mix B, where half the people sign in: the password step's hash dominates the CPU
    (about 2:1 over loading the page). Not mix A: with 20% signing in the page and the
    hash each take about half, and a CI run's summary rightly named the page (52%)."""
    assert main(["report", str(sizing_runs.mix_b), "--summary", "-o", str(tmp_path)]) == 0
    text = (tmp_path / "summary.md").read_text()
    assert "processor cores of this test machine's speed" in text
    assert "(login.submit) takes" in text
