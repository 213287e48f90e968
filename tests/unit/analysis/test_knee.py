"""Knees and capacities against planted ones; first-to-fail order; steady-state points."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from authsurge.analysis import RunAnalysis, analyze_run
from authsurge.analysis.knee import Criterion, CurvePoints, find_knee
from authsurge.analysis.ranking import StepKnee, first_to_fail, not_judged_reason
from authsurge.scenario import Slo
from tests.support.records import read_records
from tests.support.synth import Step, SynthRun, write_run

SUBMIT_CAPACITY = 50.0


def rank(knees: dict) -> list[dict]:
    """first_to_fail over bare knees (no intervals: each knee is its own point)."""
    return first_to_fail({n: StepKnee(k, not_judged=not_judged_reason(k, None))
                          for n, k in knees.items()})
FORM_CAPACITY = 80.0


def test_knee_and_capacity_match_the_planted_ones(ramp_analysis: RunAnalysis) -> None:
    submit = ramp_analysis.steps["login.submit"]["knee"]
    assert submit["reached"]
    assert submit["capacity"] == pytest.approx(SUBMIT_CAPACITY, rel=0.05)
    # goodput falls below 90% of offered between capacity and capacity / 0.9
    assert SUBMIT_CAPACITY * 0.95 <= submit["offered"] <= SUBMIT_CAPACITY / 0.9 * 1.05
    assert submit["reason"] == "goodput < 90% of offered"
    form = ramp_analysis.steps["login.form"]["knee"]
    assert form["capacity"] == pytest.approx(FORM_CAPACITY, rel=0.05)
    assert FORM_CAPACITY * 0.95 <= form["offered"] <= FORM_CAPACITY / 0.9 * 1.05


def test_first_to_fail_ranks_the_planted_weakest_step_first(ramp_analysis: RunAnalysis) -> None:
    ranked = ramp_analysis.first_to_fail
    assert [r["step"] for r in ranked] == ["login.submit", "login.form", "api.call"]
    assert ranked[0]["rank_by"] == "journey arrivals/s"
    assert ranked[0]["next"] == "login.form"
    assert ranked[0]["margin_to_next"] == pytest.approx(ranked[1]["knee"] / ranked[0]["knee"])
    assert ranked[0]["margin_to_next"] > 1.2
    assert ranked[1]["margin_is_lower_bound"]  # api.call has no knee
    last = ranked[-1]
    assert not last["reached"] and last["knee"] is None
    assert last["reason"].startswith("not reached in the measured range")


def test_healthy_step_has_no_knee_and_a_lower_bound_capacity(ramp_analysis: RunAnalysis) -> None:
    api = ramp_analysis.steps["api.call"]["knee"]
    assert api["offered"] is None and api["arrivals"] is None
    assert api["capacity_is_lower_bound"]
    assert api["capacity"] == pytest.approx(ramp_analysis.steps["api.call"]["goodput_max"])


def test_run_without_a_knee_says_not_reached(tmp_path: Path) -> None:
    run = write_run(tmp_path / "calm", levels=(5, 10, 15, 20), level_s=8,
                    steps=(Step("login.submit", 500, 80), Step("api.call", 5000, 15, 2)))
    analysis = analyze_run(run.path)
    doc = analysis.to_json()
    for step in doc["steps"].values():
        assert step["knee"]["reached"] is False and step["knee"]["offered"] is None
        assert "not reached in the measured range" in step["knee"]["reason"]
    assert all(not r["reached"] for r in doc["first_to_fail"])
    assert analysis.summary_text().startswith("no step saturates in the measured range")
    # measured up to the planned peak without a knee: it fits, with a lower-bound headroom
    assert doc["verdict"]["status"] == "survives"
    assert doc["verdict"]["steps"]["login.submit"]["capacity_is_lower_bound"]


def test_steady_points_follow_the_rule(ramp_run: SynthRun, ramp_analysis: RunAnalysis) -> None:
    points = ramp_analysis.curves.of("login.submit")
    assert ramp_analysis.curves.mode == "steady_levels"
    # 15 s levels, settle 2 s, the last window dropped: windows 2..13 of each level
    assert points["windows"].tolist() == [12] * 10
    level0 = ramp_run.meta["levels"][0]
    assert points["t_first"].iloc[0] == level0["start"] + 2.0
    assert points["t_last"].iloc[0] == level0["end"] - 1.0
    assert points["level_rate"].tolist() == [10.0 * i for i in range(1, 11)]
    # the raw-record percentiles, not an average of window percentiles
    index = ramp_analysis.index
    s = index.series_of("login.submit")
    windows = np.flatnonzero(ramp_analysis.curves.membership[s] == points["pid"].iloc[3])
    rows = read_records(ramp_analysis.run_dir)
    rows = rows[(rows["kind"] == "request") & (rows["step"] == "login.submit")]
    end_w = np.floor((rows["t_start"] + rows["latency_ms"] / 1000 - index.t0) / index.window_s)
    lat = rows["latency_ms"].to_numpy()[np.isin(end_w.to_numpy(), windows)]
    assert points["p95"].iloc[3] == pytest.approx(np.percentile(lat, 95))


def test_short_levels_are_reported(tmp_path: Path) -> None:
    run = write_run(tmp_path / "short", levels=(10, 20, 30), level_s=3,
                    steps=(Step("login.submit", 50, 80),))
    analysis = analyze_run(run.path)
    assert any("3 of 3 load levels too short" in w for w in analysis.warnings)
    assert analysis.steps["login.submit"]["curve"] == []


def test_continuous_ramp_is_binned_by_offered_load(tmp_path: Path) -> None:
    run = write_run(tmp_path / "linear", ramp=(5.0, 100.0, 150), retry_share=0.0,
                    drop_share_above=(1e9, 0.0))
    analysis = analyze_run(run.path)
    assert analysis.curves.mode == "binned"
    knee = analysis.steps["login.submit"]["knee"]
    assert knee["capacity"] == pytest.approx(SUBMIT_CAPACITY, rel=0.07)
    assert SUBMIT_CAPACITY * 0.9 <= knee["offered"] <= SUBMIT_CAPACITY / 0.9 * 1.1
    assert [r["step"] for r in analysis.first_to_fail][0] == "login.submit"


def test_latency_threshold_breaks_first_when_tighter(tmp_path: Path) -> None:
    run = write_run(tmp_path / "p95", analysis={"window_s": 1.0, "settle_s": 2.0,
                                                 "goodput_share": 0.9, "knee_p95_ms": 400.0})
    knee = analyze_run(run.path).steps["login.submit"]["knee"]
    assert knee["reason"] == "p95 > 400 ms"
    # served latency rises past the planted capacity, so the knee stays near it
    assert SUBMIT_CAPACITY * 0.95 <= knee["offered"] <= SUBMIT_CAPACITY / 0.9 * 1.05
    assert "p95 > 400 ms" in knee["rule"]


def test_slo_on_the_step_is_a_knee_criterion(tmp_path: Path) -> None:
    slo = Slo.parse("login.form p95 < 60ms").model_dump(mode="json")
    run = write_run(tmp_path / "slo", slos=[slo])
    analysis = analyze_run(run.path)
    knee = analysis.steps["login.form"]["knee"]
    assert knee["reason"] == "p95 > 60 ms (SLO login.form p95 < 60 ms)"
    assert knee["offered"] < FORM_CAPACITY * 0.95  # breaks long before goodput falls
    assert analysis.steps["login.submit"]["knee"]["reason"] == "goodput < 90% of offered"


# --- find_knee on hand-made curves ---------------------------------------------------------

def frame(offered: list[float], goodput: list[float], p95: list[float] | None = None) -> pd.DataFrame:
    return pd.DataFrame({"offered_rps": offered, "arrivals_rps": [o / 2 for o in offered],
                         "goodput_rps": goodput, "p95": p95 or [10.0] * len(offered)})


def curve(offered: list[float], goodput: list[float], p95: list[float] | None = None) -> CurvePoints:
    return CurvePoints.from_frame(frame(offered, goodput, p95))


GOODPUT = [Criterion("goodput < 90% of offered", "goodput_share", "goodput", 0.9)]


def test_knee_is_interpolated_between_last_pass_and_first_fail() -> None:
    # margins (goodput - 0.9 offered): 1, 2, 1, -6 -> zero crossing 1/7 of the way from 30 to 40
    knee = find_knee(curve([10, 20, 30, 40, 50], [10, 20, 28, 30, 31]), GOODPUT, "rule")
    assert knee.offered == pytest.approx(30 + 10 / 7)
    assert knee.arrivals == pytest.approx((30 + 10 / 7) / 2)
    # peak sustained: the median of the points within 10% of the best (28, 30, 31)
    assert knee.capacity == pytest.approx(30.0)
    assert (knee.last_pass_point, knee.first_fail_point) == (2, 3)


def test_latency_knee_capacity_is_the_goodput_at_the_knee() -> None:
    p95 = [100.0, 200.0, 400.0, 1200.0]
    crit = GOODPUT + [Criterion("p95 > 800 ms", "knee_p95_ms", "p95", 800.0)]
    knee = find_knee(curve([10, 20, 30, 40], [10, 20, 30, 40], p95), crit, "rule")
    assert knee.reason == "p95 > 800 ms"
    assert knee.offered == pytest.approx(35.0)  # 400 -> 1200 crosses 800 half way
    assert knee.capacity == pytest.approx(35.0)


def test_knee_at_the_first_point_says_so() -> None:
    knee = find_knee(curve([10, 20], [5, 6]), GOODPUT, "rule")
    assert knee.offered == 10 and knee.at_lowest_point
    assert knee.reason.endswith("at or below the lowest measured load")


def test_slo_limited_to_low_load_does_not_judge_high_load() -> None:
    crit = GOODPUT + [Criterion("p95 > 100 ms", "SLO x", "p95", 100.0, at_offered_max=25.0)]
    knee = find_knee(curve([10, 20, 30], [10, 20, 30], [50.0, 60.0, 500.0]), crit, "rule")
    assert not knee.reached


def test_first_to_fail_without_journeys_ranks_by_offered_load() -> None:
    a = find_knee(CurvePoints.from_frame(pd.DataFrame({
        "offered_rps": [10, 20, 30], "arrivals_rps": [np.nan] * 3, "goodput_rps": [10, 20, 20],
        "p95": [1.0] * 3})), GOODPUT, "r")
    b = find_knee(CurvePoints.from_frame(pd.DataFrame({
        "offered_rps": [10, 20, 30], "arrivals_rps": [np.nan] * 3, "goodput_rps": [10, 15, 15],
        "p95": [1.0] * 3})), GOODPUT, "r")
    ranked = rank({"a": a, "b": b})
    assert [r["step"] for r in ranked] == ["b", "a"]
    assert ranked[0]["rank_by"] == "req/s offered to the step"


def test_steps_without_a_knee_tie_break_by_their_own_load() -> None:
    def healthy(peak: float) -> CurvePoints:
        return CurvePoints.from_frame(pd.DataFrame({
            "offered_rps": [peak / 2, peak], "arrivals_rps": [5.0, 10.0],
            "goodput_rps": [peak / 2, peak], "p95": [1.0, 1.0]}))

    knees = {name: find_knee(healthy(peak), GOODPUT, "r")
             for name, peak in (("a.busy", 40.0), ("b.quiet", 10.0), ("c.mid", 20.0))}
    assert [r["step"] for r in rank(knees)] == ["b.quiet", "c.mid", "a.busy"]


def test_a_thin_point_before_the_knee_is_skipped_not_taken_as_the_knee() -> None:
    # the point at 35/s holds 5 completed requests, too few to judge: its shortfall must not
    # place the knee at 35, and the interpolation runs from 30 (the last judged pass) to 40
    points = frame([10, 20, 30, 35, 40, 50], [10, 20, 28, 20, 30, 31])
    points["completed"] = [300, 600, 900, 5, 1200, 1500]
    knee = find_knee(CurvePoints.from_frame(points), GOODPUT, "rule")
    assert knee.offered == pytest.approx(30 + 10 / 7)
    assert (knee.last_pass_point, knee.first_fail_point) == (2, 4)  # rows of `points`
    assert knee.capacity == pytest.approx(30.0)  # the plateau within 10% of 31: 28, 30, 31


def test_a_curve_of_thin_points_only_is_not_judged_but_keeps_its_range() -> None:
    from authsurge.analysis.knee import nothing_judged

    points = frame([2, 4], [2, 3])
    points["completed"] = [8, 16]
    knee = find_knee(CurvePoints.from_frame(points), GOODPUT, "rule")
    assert not knee.reached and knee.capacity is None and knee.max_offered == 4
    assert knee.reason.startswith("too few requests to judge")
    ranked = rank({"login.submit": knee})
    assert nothing_judged(ranked) and not ranked[0]["judged"]
    assert ranked[0]["not_judged_reason"].startswith("too few requests to judge")
