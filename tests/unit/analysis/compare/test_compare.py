"""Release comparison, known answers: planted capacities in synthetic runs (tests/support/planted.py).

- the same planted capacities, another random seed: no detectable change anywhere (no
  false alarm);
- login.submit planted 30% lower: login.submit worse, with the knee and capacity shift
  near -30%, and api.call (healthy in both) unchanged.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from authsurge.analysis.compare import (
    BETTER,
    NOT_JUDGED,
    SAME,
    WORSE,
    CompareRule,
    Comparison,
    Metric,
    StepData,
    check_comparable,
    compare_runs,
    label,
    resampled_knees,
    resampled_quantiles,
)
from authsurge.analysis.digest import read_digest, run_digest, write_digest
from authsurge.cli import main
from authsurge.errors import BadInput, ExitStatus
from tests.support.planted import SLOWER, copy_run, planted_analysis, planted_run


@pytest.fixture()
def analysed_once(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI analyses both runs again; serve the session's analyses of the planted runs."""
    import authsurge.analysis.compare as compare_module

    names = ("base", "same", "slower_login")
    by_path = {planted_run(n, tmp_path_factory).path.resolve(): n for n in names}
    real = compare_module.analyze_run

    def analyze(run_dir: Path, *, progress=None):  # noqa: ANN001, ANN202
        name = by_path.get(Path(run_dir).resolve())
        if not name:
            return real(run_dir, progress=progress)
        # the session's analysis serves later tests too: the command must not close it
        shared = copy.copy(planted_analysis(name, tmp_path_factory))
        shared.close = lambda: None  # type: ignore[method-assign]
        return shared

    monkeypatch.setattr(compare_module, "analyze_run", analyze)


# Synthetic runs differ only by their planted change and sampling noise: no run-to-run
# spread to model, so these known-answer tests judge the within-run statistics alone.
SINGLE = CompareRule(run_to_run={})


@pytest.fixture(scope="module")
def unchanged(tmp_path_factory: pytest.TempPathFactory) -> Comparison:
    return compare_runs(planted_analysis("base", tmp_path_factory),
                        planted_analysis("same", tmp_path_factory), SINGLE)


@pytest.fixture(scope="module")
def slower(tmp_path_factory: pytest.TempPathFactory) -> Comparison:
    return compare_runs(planted_analysis("base", tmp_path_factory),
                        planted_analysis("slower_login", tmp_path_factory), SINGLE)


def test_reruns_of_the_same_capacity_show_no_detectable_change(unchanged: Comparison) -> None:
    doc = unchanged.to_json()
    assert doc["verdict"] == SAME
    assert doc["regressions"] == [] and doc["improvements"] == []
    assert set(doc["steps"]) == {"login.form", "login.submit", "api.call"}
    for name, step in doc["steps"].items():
        assert step["label"] == SAME, name
        for key in ("knee", "capacity"):
            m = step[key]
            if m["change"] is not None:  # api.call has no knee in either run
                assert abs(m["change"]) < 0.10, (name, key, m)
                assert m["ci_low"] <= 0 <= m["ci_high"] or abs(m["change"]) < 0.10


def test_every_judged_level_of_a_rerun_is_unchanged(unchanged: Comparison) -> None:
    doc = unchanged.to_json()
    judged = [lv for s in doc["steps"].values() for lv in s["levels"] if lv["judged"]]
    assert judged, "some levels must be matched loads, or the test says nothing"
    for level in judged:
        for m in level["metrics"].values():
            # latency near a knee is queueing: shown, not judged (QUEUEING_FACTOR)
            assert m["label"] in (SAME, NOT_JUDGED), (level["label"], m)
            assert m["ci_low"] is not None and m["ci_high"] is not None
    latency = [m["label"] for lv in judged for k, m in lv["metrics"].items() if k != "goodput"]
    assert latency.count(SAME) >= len(latency) // 2, "most latency must still be judged"


def test_login_planted_30_percent_slower_is_worse(slower: Comparison) -> None:
    doc = slower.to_json()
    assert doc["verdict"] == "regression"
    submit = doc["steps"]["login.submit"]
    assert submit["label"] == WORSE
    assert submit["capacity"]["label"] == WORSE
    assert "login.submit: capacity" in doc["regressions"]
    # the shift matches the planted change within tolerance; the knee is interpolated
    # between load levels 10/s apart, so it gets a wider tolerance than the capacity
    assert submit["capacity"]["change"] == pytest.approx(-SLOWER, abs=0.06)
    assert submit["knee"]["change"] == pytest.approx(-SLOWER, abs=0.10)
    assert submit["capacity"]["ci_low"] < -SLOWER + 0.06 and submit["capacity"]["ci_high"] < 0


def test_past_a_knee_latency_is_shown_but_goodput_judges(slower: Comparison) -> None:
    levels = [lv for lv in slower.to_json()["steps"]["login.submit"]["levels"] if lv["judged"]]
    past = [lv for lv in levels if "past the knee" in lv["metrics"]["p95"]["note"]]
    assert past, "the levels between the two knees are past the candidate's knee"
    for level in past:
        assert level["metrics"]["p95"]["label"] == NOT_JUDGED
        assert level["metrics"]["p95"]["change"] is not None  # still shown
        assert level["metrics"]["goodput"]["label"] in (WORSE, SAME)
    assert any(lv["metrics"]["goodput"]["label"] == WORSE for lv in past)


def test_api_call_is_unchanged_when_only_login_got_slower(slower: Comparison) -> None:
    api = slower.to_json()["steps"]["api.call"]
    assert api["label"] == SAME
    assert not any("api.call" in r for r in slower.regressions)
    judged = [lv for lv in api["levels"] if lv["judged"]]
    assert judged and all(m["label"] == SAME for lv in judged for m in lv["metrics"].values())
    # fewer journeys get past login at high surge: api.call sees less load there, and
    # those levels are shown but not judged
    assert any("offered load differs" in lv["note"] for lv in api["levels"])


def test_comparison_json_is_strict_and_documents_the_rule(slower: Comparison) -> None:
    doc = slower.to_json()
    assert json.loads(json.dumps(doc, allow_nan=False)) == doc
    rule = doc["rule"]
    assert rule["confidence"] == 0.95 and rule["min_effect"] == 0.10
    assert "bootstrap" in rule["text"] and "Mann-Whitney" in rule["text"]
    assert doc["matching"] == "levels"
    level = next(lv for lv in doc["steps"]["login.submit"]["levels"] if lv["judged"])
    assert set(level["metrics"]) == {"goodput", "p50", "p95", "p99"}
    # the matched-load intervals are Bonferroni-adjusted over the step's judged levels
    judged = doc["steps"]["login.submit"]["levels_judged"]
    assert level["metrics"]["p95"]["confidence"] == pytest.approx(1 - 0.05 / judged)


def test_the_same_runs_give_the_same_comparison(tmp_path_factory: pytest.TempPathFactory) -> None:
    quick = CompareRule(n_resamples=200, n_resamples_knee=100)
    base, same = planted_analysis("base", tmp_path_factory), planted_analysis("same", tmp_path_factory)
    first = compare_runs(base, same, quick).to_json()
    assert compare_runs(base, same, quick).to_json() == first  # the bootstrap is seeded


def test_continuous_ramps_compare_on_common_offered_load_bins(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    doc = compare_runs(planted_analysis("ramp_a", tmp_path_factory),
                       planted_analysis("ramp_b", tmp_path_factory)).to_json()
    assert doc["matching"] == "offered_bins"
    assert doc["verdict"] == SAME, doc["regressions"] + doc["improvements"]
    judged = [lv for s in doc["steps"].values() for lv in s["levels"] if lv["judged"]]
    assert judged and all(lv["rate"] is None and lv["label"].endswith("req/s") for lv in judged)
    assert all(lv["metrics"]["p95"]["label"] == "not judged" for lv in judged)


@pytest.mark.parametrize(("change", "low", "high", "gate", "higher_is_better", "expected"), [
    (-0.30, -0.40, -0.20, True, True, WORSE),     # capacity down, sure and big
    (0.30, 0.20, 0.40, True, True, BETTER),       # capacity up
    (0.30, 0.20, 0.40, True, False, WORSE),       # latency up
    (-0.30, -0.40, -0.20, True, False, BETTER),   # latency down
    (-0.30, -0.60, 0.05, True, True, SAME),       # interval includes 0: not detectable
    (-0.04, -0.05, -0.03, True, True, SAME),      # sure but trivial: below min_effect
    (0.30, 0.20, 0.40, False, False, SAME),       # rank test disagrees
    (None, None, None, True, True, SAME),         # nothing to compare
    (-0.30, None, None, True, True, SAME),        # no interval
])
def test_label_rule(change: float | None, low: float | None, high: float | None, gate: bool,
                    higher_is_better: bool, expected: str) -> None:
    m = Metric("x", "req/s", 1.0, 1.0, change, low, high)
    assert label(m, CompareRule(), higher_is_better=higher_is_better, gate=gate) == expected


def test_the_bootstrap_rebuilds_the_analysis_knee_when_every_window_is_drawn_once(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    analysis = planted_analysis("slower_login", tmp_path_factory)
    digest = run_digest(analysis)
    for name in analysis.steps:
        data = StepData(digest, name)
        strata = [data.point_windows(r) for r in range(len(data.points))]
        draws = [np.arange(len(w))[None, :] for w in strata]
        knee, capacity = resampled_knees(data, strata, draws, None)
        k = analysis.knees[name]
        assert knee[0] == pytest.approx(k.offered if k.reached else k.max_offered)
        assert capacity[0] == pytest.approx(k.capacity)


def test_resampled_quantiles_equal_numpy_when_every_window_is_drawn_once() -> None:
    rng = np.random.default_rng(3)
    latency = np.sort(rng.lognormal(3, 0.5, 500))
    window = rng.integers(0, 12, latency.size)
    draws = np.vstack([np.arange(12), np.arange(12)[::-1]])  # each window once, any order
    for q in (0.5, 0.95, 0.99, 1.0):
        got = resampled_quantiles((latency, window), draws, 12, [q])[0]
        assert got == pytest.approx([np.quantile(latency, q)] * 2)


def test_resampled_quantiles_count_a_window_drawn_twice_twice() -> None:
    latency = np.array([1.0, 2.0, 10.0, 20.0])
    window = np.array([0, 0, 1, 1])
    got = resampled_quantiles((latency, window), np.array([[1, 1]]), 2, [0.5])[0]
    assert got == pytest.approx([np.quantile([10.0, 20.0, 10.0, 20.0], 0.5)])


def test_different_scenarios_are_refused_unless_forced(analysed_once: None, tmp_path: Path,
                                                       tmp_path_factory: pytest.TempPathFactory,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    other = copy_run("same", tmp_path_factory, tmp_path / "other", scenario="another_scenario")
    base = planted_run("base", tmp_path_factory).path
    code = main(["compare", str(base), str(other)])
    err = capsys.readouterr().err
    assert code == ExitStatus.BAD_INPUT
    assert "different scenarios" in err and "--force" in err and "Traceback" not in err
    with pytest.raises(BadInput, match="different scenarios"):
        check_comparable({"scenario": "a"}, {"scenario": "b"}, force=False)
    assert check_comparable({"scenario": "a"}, {"scenario": "b"}, force=True)  # a warning
    code = main(["compare", str(base), str(other), "--force", "--json", "--fail-on", "none"])
    doc = json.loads(capsys.readouterr().out)
    assert code == ExitStatus.SUCCESS
    assert doc["forced"] is True
    assert any("different scenarios" in w for w in doc["warnings"])


def test_compare_cli_exits_1_on_a_regression_for_ci(analysed_once: None,
                                                    tmp_path_factory: pytest.TempPathFactory,
                                                    tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    base = str(planted_run("base", tmp_path_factory).path)
    slower = str(planted_run("slower_login", tmp_path_factory).path)
    plot = tmp_path / "compare.png"
    assert main(["compare", base, slower, "--plot", str(plot), "--run-to-run", "none"]) == \
        ExitStatus.GATE_FAILED
    out = capsys.readouterr().out
    assert "verdict: regression" in out and "login.submit: worse" in out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 20_000


def test_compare_cli_exits_0_without_a_regression(analysed_once: None,
                                                  tmp_path_factory: pytest.TempPathFactory,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    base = str(planted_run("base", tmp_path_factory).path)
    same = str(planted_run("same", tmp_path_factory).path)
    assert main(["compare", base, same, "--json"]) == ExitStatus.SUCCESS
    doc = json.loads(capsys.readouterr().out)
    assert doc["verdict"] == SAME


def test_confidence_outside_its_range_is_bad_input(tmp_path_factory: pytest.TempPathFactory,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    base = str(planted_run("base", tmp_path_factory).path)
    assert main(["compare", base, base, "--confidence", "1.5"]) == ExitStatus.BAD_INPUT
    assert "--confidence" in capsys.readouterr().err


def test_a_comparison_read_from_written_digests_equals_the_one_from_the_analyses(
        tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    quick = CompareRule(n_resamples=200, n_resamples_knee=100, run_to_run={})
    base, slower = (planted_analysis(n, tmp_path_factory) for n in ("base", "slower_login"))
    in_memory = compare_runs(base, slower, quick).to_json()
    written = []
    for name, analysis in (("base", base), ("slower", slower)):
        digest = run_digest(analysis)
        digest.run_dir = tmp_path / name  # a copy elsewhere: the session's runs stay as they are
        digest.run_dir.mkdir()
        write_digest(digest)
        read = read_digest(digest.run_dir)
        assert read is not None
        written.append(read)
    from_files = compare_runs(*written, quick).to_json()
    for doc in (in_memory, from_files):
        for side in ("base", "candidate"):
            doc[side].pop("path")
    assert from_files == in_memory
    assert from_files["verdict"] == "regression"


def test_a_digest_older_than_the_run_data_is_not_read(tmp_path_factory: pytest.TempPathFactory,
                                                       tmp_path: Path) -> None:
    import os
    import shutil

    run = tmp_path / "run"
    shutil.copytree(planted_run("same", tmp_path_factory).path, run)
    digest = run_digest(planted_analysis("same", tmp_path_factory))
    digest.run_dir = run
    write_digest(digest)
    assert read_digest(run) is not None
    later = (run / "digest" / "digest.json").stat().st_mtime + 10
    os.utime(run / "meta.json", (later, later))  # the run changed after its digest was made
    assert read_digest(run) is None


def test_latency_queueing_near_an_unreached_knee_is_shown_not_judged(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    doc = compare_runs(planted_analysis("base", tmp_path_factory),
                       planted_analysis("same", tmp_path_factory),
                       CompareRule(n_resamples=200, n_resamples_knee=100)).to_json()
    queued = [m for s in doc["steps"].values() for lv in s["levels"] if lv["judged"]
              for m in lv["metrics"].values() if "queueing" in m["note"] and m["label"] == NOT_JUDGED]
    assert queued, "the planted curves queue before their knees: some latency is not judged"
    for m in queued:
        assert m["candidate"] is not None and m["change"] is not None  # still shown


def test_the_run_to_run_spread_keeps_a_change_within_it_from_being_called(
        slower: Comparison, tmp_path_factory: pytest.TempPathFactory) -> None:
    # the planted 30% drop is caught when single runs are trusted (the slower fixture) ...
    assert slower.to_json()["steps"]["login.submit"]["capacity"]["label"] == WORSE
    # ... and not when two runs of one release can differ by 40% (log spread 0.4)
    wide = CompareRule(run_to_run={"capacity": 0.4, "knee": 0.4, "goodput": 0.4})
    doc = compare_runs(planted_analysis("base", tmp_path_factory),
                       planted_analysis("slower_login", tmp_path_factory), wide).to_json()
    capacity = doc["steps"]["login.submit"]["capacity"]
    assert capacity["label"] == SAME and "run-to-run spread 40%" in capacity["note"]
    assert capacity["ci_low"] < -0.3 < 0 < capacity["ci_high"]


def test_run_to_run_takes_only_known_quantities() -> None:
    with pytest.raises(BadInput, match="unknown quantity"):
        CompareRule(run_to_run={"latency": 0.1})


def test_a_malformed_run_to_run_option_is_bad_input(tmp_path_factory: pytest.TempPathFactory,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    base = str(planted_run("base", tmp_path_factory).path)
    assert main(["compare", base, base, "--run-to-run", "capacity"]) == ExitStatus.BAD_INPUT
    assert "QUANTITY=SHARE" in capsys.readouterr().err
