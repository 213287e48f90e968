"""first_to_fail: one unit for every step, ties reported as ties, unjudged steps set apart."""

from __future__ import annotations

import math

import pandas as pd

from authsurge.analysis import RunAnalysis
from authsurge.analysis.knee import Criterion, CurvePoints, find_knee
from authsurge.analysis.ranking import ARRIVALS, StepKnee, first_to_fail, not_judged_reason

GOODPUT = [Criterion("goodput < 90% of offered", "goodput_share", "goodput", 0.9)]


def knee(offered: list[float], goodput: list[float], arrivals: list[float],
         completed: list[float] | None = None):  # noqa: ANN201
    frame = pd.DataFrame({"offered_rps": offered, "goodput_rps": goodput,
                          "arrivals_rps": arrivals, "p95": [1.0] * len(offered)})
    if completed is not None:
        frame["completed"] = completed
    return find_knee(CurvePoints.from_frame(frame), GOODPUT, "rule")


def test_a_step_without_judged_points_never_changes_the_unit_of_the_others() -> None:
    submit = knee([10, 20, 30], [10, 20, 20], [10, 20, 30])
    refresh = knee([30, 60, 90], [30, 60, 60], [10, 20, 30])
    discovery = knee([0.1, 0.2, 0.3], [0.1, 0.2, 0.3], [math.nan] * 3, completed=[1, 2, 3])
    steps = {"login.submit": StepKnee(submit), "token.refresh": StepKnee(refresh),
             "oidc.discovery": StepKnee(discovery,
                                        not_judged=not_judged_reason(discovery, 0.01))}
    ranked = first_to_fail(steps)
    assert {r["rank_by"] for r in ranked} == {ARRIVALS}
    unjudged = ranked[-1]
    assert unjudged["step"] == "oidc.discovery" and not unjudged["judged"]
    assert unjudged["rank"] is None and unjudged["not_judged_reason"].startswith("cached or rare")


def test_knees_with_overlapping_intervals_fail_together_and_share_a_rank() -> None:
    a = knee([10, 20, 30, 40], [10, 20, 22, 22], [10, 20, 30, 40])
    b = knee([10, 20, 30, 40], [10, 20, 24, 24], [10, 20, 30, 40])
    c = knee([10, 20, 30, 40], [10, 20, 30, 30], [10, 20, 30, 40])
    ranked = first_to_fail({"a": StepKnee(a, (20.0, 30.0)), "b": StepKnee(b, (20.0, 30.0)),
                            "c": StepKnee(c, (30.0, 40.0))})
    by_step = {r["step"]: r for r in ranked}
    assert by_step["a"]["rank"] == by_step["b"]["rank"] == 1
    assert by_step["c"]["rank"] == 3
    assert by_step["a"]["fails_together_with"] == ["b"]
    assert by_step["c"]["fails_together_with"] == []
    assert by_step["a"]["next"] == "c"  # the margin is to the next group, not within the tie


def test_ordered_knees_are_not_reported_as_a_tie() -> None:
    a = knee([10, 20, 30, 40], [10, 20, 22, 22], [10, 20, 30, 40])
    c = knee([10, 20, 30, 40], [10, 20, 30, 30], [10, 20, 30, 40])
    ranked = first_to_fail({"a": StepKnee(a, (20.0, 30.0)), "c": StepKnee(c, (30.0, 40.0))})
    assert [r["rank"] for r in ranked] == [1, 2]
    assert all(not r["fails_together_with"] for r in ranked)


def test_every_knee_of_a_real_analysis_has_an_interval_holding_it(
        ramp_analysis: RunAnalysis) -> None:
    reached = [r for r in ramp_analysis.first_to_fail if r["reached"]]
    assert len(reached) == 2
    for r in reached:
        lo, hi = r["knee_interval"]
        assert lo <= r["knee"] <= hi
        assert hi > lo  # at least the ramp resolution


def test_the_planted_ramp_steps_are_ordered_not_tied(ramp_analysis: RunAnalysis) -> None:
    # login.submit (50/s) and login.form (80/s) are levels apart: no tie
    ranked = {r["step"]: r for r in ramp_analysis.first_to_fail}
    assert ranked["login.submit"]["rank"] == 1 and ranked["login.form"]["rank"] == 2
    assert not ranked["login.submit"]["fails_together_with"]


def test_a_shortfall_within_poisson_noise_is_no_knee() -> None:
    # a thin top bin: 40 requests offered in 5 s, 35 served (the window-boundary spill of a
    # healthy step), no errors, flat latency: not a knee
    frame = pd.DataFrame({"offered_rps": [2.0, 4.0, 6.0, 8.0], "goodput_rps": [2.0, 4.0, 6.0, 7.0],
                          "arrivals_rps": [2.0, 4.0, 6.0, 8.0], "completed": [40, 80, 120, 35],
                          "seconds": [20.0, 20.0, 20.0, 5.0], "p50": [40.0, 41.0, 39.0, 42.0],
                          "error_rate": [0.0] * 4, "concurrency": [0.08, 0.16, 0.24, 0.3]})
    assert not find_knee(CurvePoints.from_frame(frame), GOODPUT, "rule").reached
    # corroborated (errors at that point) but still within its noise: no knee either
    frame["error_rate"] = [0.0, 0.0, 0.0, 0.05]
    assert not find_knee(CurvePoints.from_frame(frame), GOODPUT, "rule").reached
    # a shortfall far beyond its noise (110 requests below 90% of 400), with errors, is one
    frame["completed"] = [400, 800, 1200, 400]
    frame["seconds"] = [200.0, 200.0, 200.0, 50.0]
    frame["goodput_rps"] = [2.0, 4.0, 6.0, 5.0]
    frame["error_rate"] = [0.0, 0.0, 0.0, 0.37]
    assert find_knee(CurvePoints.from_frame(frame), GOODPUT, "rule").reached

