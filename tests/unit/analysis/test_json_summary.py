"""analysis.json keeps its schema and survives json; the summary quotes the JSON's numbers."""

from __future__ import annotations

import json
import re
from pathlib import Path

from authsurge.analysis import RunAnalysis, analyze_run, schema
from authsurge.analysis.wording import multiple, rate


def test_to_json_round_trips_strict_json(ramp_analysis: RunAnalysis) -> None:
    doc = ramp_analysis.to_json()
    text = json.dumps(doc, allow_nan=False)  # no NaN, no numpy scalars
    assert json.loads(text) == doc


def test_the_exact_document_keeps_full_precision_and_the_written_one_six_digits(ramp_analysis: RunAnalysis) -> None:
    exact, written = ramp_analysis.to_json(exact=True), ramp_analysis.to_json()
    pairs = list(zip(exact["steps"]["login.submit"]["curve"], written["steps"]["login.submit"]["curve"],
                     strict=True))
    assert all(w["p95"] == float(f"{e['p95']:.6g}") for e, w in pairs)
    assert any(e["p95"] != w["p95"] for e, w in pairs)  # more digits than the written file


def test_to_json_has_the_documented_keys(ramp_analysis: RunAnalysis) -> None:
    doc = ramp_analysis.to_json()
    assert tuple(doc) == schema.TOP_LEVEL_KEYS
    assert doc["format_version"] == schema.ANALYSIS_FORMAT_VERSION == 1
    assert tuple(doc["run"]) == schema.RUN_KEYS
    assert doc["run"]["scenario"] == "synthetic"
    assert doc["run"]["target"] == "http://127.0.0.1:8000"
    assert doc["run"]["started_at"] == 1_700_000_000.0  # epoch seconds keep their precision
    assert list(doc["steps"]) == ["login.form", "login.submit", "api.call"]  # journey order
    for step in doc["steps"].values():
        assert tuple(step) == schema.STEP_KEYS
        assert tuple(step["knee"])[: len(schema.KNEE_KEYS)] == schema.KNEE_KEYS
        assert step["knee"]["rule"].startswith("knee: the first curve point where goodput < 90%")
    assert "settle_s" in doc["curves"]["rule"]  # the steady-state rule is in the JSON
    assert doc["steps"]["login.submit"]["errors_by_class"]["http_5xx"] > 0
    assert doc["steps"]["login.submit"]["top_errors"][0]["reason"] == "503 on POST /login.submit"


def test_write_json(ramp_analysis: RunAnalysis, tmp_path: Path) -> None:
    path = ramp_analysis.write_json(tmp_path / "analysis.json")
    assert json.loads(path.read_text()) == ramp_analysis.to_json()


def test_summary_names_the_first_to_fail_with_the_json_numbers(ramp_analysis: RunAnalysis) -> None:
    doc = ramp_analysis.to_json()
    text = ramp_analysis.summary_text()
    headline = text.splitlines()[0]
    first = doc["first_to_fail"][0]["step"]
    knee = doc["steps"][first]["knee"]
    bottleneck = doc["steps"][first]["bottleneck"]
    assert headline.startswith(
        f"{first} saturates first, at about {rate(knee['capacity'])} req/s on this deployment "
        f"(knee at {rate(knee['offered'])} req/s offered, {rate(knee['arrivals'])} journeys/s arriving")
    assert f"when target CPU reaches {bottleneck['target_cpu_percent']:.0f}% of 2 cores" in headline
    healthy = doc["first_to_fail"][-1]["step"]
    assert (f"{healthy} stays healthy up to "
            f"{rate(doc['steps'][healthy]['knee']['max_offered'])} req/s") in headline
    assert (f"the surge peak needs {multiple(doc['verdict']['multiple_needed'])} today's "
            f"{doc['verdict']['limiting_step']} capacity") in headline
    # every number in the headline comes from the JSON
    quoted = {rate(knee["capacity"]), rate(knee["offered"]), rate(knee["arrivals"]),
              f"{bottleneck['target_cpu_percent']:.0f}", "2", "90",
              rate(doc["steps"][healthy]["knee"]["max_offered"]),
              multiple(doc["verdict"]["multiple_needed"]).rstrip("x")}
    cause = doc["cause"]
    if cause and cause["cost_per_request"] is not None:  # the cause clause quotes the cost model
        per = cause["per_journey"]["cost"] if cause["kind"] == "journey" else cause["cost_per_request"]
        quoted |= {f"{per:,.1f}", f"{cause['share'] * 100:.0f}"}
    numbers = set(re.findall(r"\d[\d,]*(?:\.\d+)?", headline.replace(first, "").replace(healthy, "")))
    assert numbers <= quoted, numbers - quoted


def test_summary_lists_every_step_and_the_caveats(ramp_analysis: RunAnalysis) -> None:
    text = ramp_analysis.summary_text()
    for name in ramp_analysis.steps:
        assert f"  {name}: " in text
    assert "Retries: " in text and "Dropped journeys: " in text
    assert text.splitlines()[-1].startswith("Verdict: fails")


def test_progress_reports_each_stage(ramp_run) -> None:
    stages: list[str] = []
    analyze_run(ramp_run.path, progress=stages.append)
    assert stages == ["load", "windows", "curves", "knees", "steps", "ranking", "cost", "verdict", "done"]
