"""Recovery after the surge (analysis.json `recovery`): planted runs with known answers.

The plan of every run here: 10 sign-ins a second, a surge of 40 a second against a
capacity of 20, then 10 a second again (tests/unit/analysis/surge_runs.py). One-second
windows, so a planted second is a window.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from authsurge.analysis import analyze_run
from authsurge.analysis.knee import level_bracket
from authsurge.analysis.recovery import Capacity, capacity_of, recovery_section
from authsurge.analysis.step_groups import sign_in_load
from authsurge.analysis.wording import headline, sentences, tiles
from tests.support.records import index_of
from tests.unit.analysis.surge_runs import (
    T0,
    Second,
    schedule,
    seconds,
    surge_rows,
    write_surge_run,
)

CAPACITY = Capacity(20.0, "calibration")
CALM = Second(10)
SURGE = Second(40, ok=False, latency_ms=500.0)  # the excess is turned away after a wait
DOWN = Second(10, ok=False, latency_ms=5.0, retries=10)  # fresh and retried sign-ins fail
K = 7  # planted: seconds from the fall below capacity until sign-in works again


def recovery_of(plan: list[Second], tmp_path: Path, capacity: Capacity = CAPACITY) -> dict[str, Any] | None:
    index = index_of(surge_rows(plan), tmp_path, T0, 1.0, T0 + len(plan))
    try:
        load = sign_in_load(index.windows, index, T0, schedule(plan))
        return recovery_section(index.windows, index, load, capacity, None, float(len(plan)))
    finally:
        index.close()


def test_sign_in_that_works_again_k_seconds_after_the_fall_recovers_in_exactly_k_seconds(
    tmp_path: Path,
) -> None:
    plan = seconds((10, CALM), (10, SURGE), (K, DOWN), (23, CALM))
    r = recovery_of(plan, tmp_path)
    assert r is not None
    assert (r["peak_at_s"], r["exceeded_at_s"], r["fell_below_at_s"]) == (10.0, 10.0, 20.0)
    assert (r["recovered_at_s"], r["recovery_s"]) == (20.0 + K, float(K))
    assert r["recovered"] is True and r["metastable"] is False
    assert (r["capacity_rps"], r["capacity_source"], r["load_basis"]) == (20.0, "calibration", "schedule")
    assert r["pre_surge_p95_ms"] == pytest.approx(20.0)
    # from the fall until recovery: 10 fresh and 10 retried sign-ins a second
    assert (r["attempts_after_fall"], r["retry_share_after_fall"]) == (20 * K, 0.5)
    assert r["reason"] is None


def test_one_good_window_after_the_fall_is_not_a_recovery(tmp_path: Path) -> None:
    plan = seconds((10, CALM), (10, SURGE), (3, DOWN), (1, CALM), (2, DOWN), (24, CALM))
    r = recovery_of(plan, tmp_path)
    assert r is not None and r["recovered_at_s"] == 26.0  # the lone good second at 23 s is not it


def test_sign_in_still_failing_at_the_end_after_the_load_fell_is_metastable_with_its_retries(
    tmp_path: Path,
) -> None:
    plan = seconds((10, CALM), (10, SURGE), (30, DOWN))
    r = recovery_of(plan, tmp_path)
    assert r is not None
    assert r["recovered"] is False and r["metastable"] is True
    assert (r["fell_below_at_s"], r["recovered_at_s"], r["recovery_s"]) == (20.0, None, None)
    assert r["after_fall_s"] == 30.0
    assert (r["attempts_after_fall"], r["retry_share_after_fall"]) == (600, 0.5)


def test_a_load_that_never_falls_back_below_capacity_has_no_recovery(tmp_path: Path) -> None:
    assert recovery_of(seconds((10, CALM), (40, SURGE)), tmp_path) is None


def test_a_load_that_never_exceeds_capacity_has_no_recovery(tmp_path: Path) -> None:
    assert recovery_of(seconds((10, CALM), (10, Second(15)), (10, CALM)), tmp_path) is None


def test_a_surge_from_the_first_second_has_no_pre_surge_p95_and_recovery_is_undetermined(
    tmp_path: Path,
) -> None:
    r = recovery_of(seconds((10, SURGE), (30, CALM)), tmp_path)
    assert r is not None
    assert r["fell_below_at_s"] == 10.0 and r["pre_surge_p95_ms"] is None
    assert r["recovered"] is None and r["metastable"] is None and r["recovered_at_s"] is None
    assert "no pre-surge p95" in r["reason"]


def test_a_fall_too_close_to_the_end_is_too_soon_to_tell(tmp_path: Path) -> None:
    r = recovery_of(seconds((10, CALM), (10, SURGE), (2, DOWN)), tmp_path)
    assert r is not None and r["recovered"] is None and r["metastable"] is None
    assert "too soon to tell" in r["reason"]


def test_a_surge_that_came_and_went_on_an_unknown_capacity_says_why_it_is_not_measured(
    tmp_path: Path,
) -> None:
    unknown = Capacity(None, None, "no calibration in meta.json, and no step reached a knee")
    r = recovery_of(seconds((10, CALM), (10, SURGE), (20, CALM)), tmp_path, unknown)
    assert r is not None and r["capacity_rps"] is None and r["fell_below_at_s"] is None
    assert r["reason"] == "capacity unknown: no calibration in meta.json, and no step reached a knee"
    # a ramp that only goes up has no surge that came and went: nothing to say
    assert recovery_of(seconds((10, CALM), (10, SURGE)), tmp_path / "ramp", unknown) is None


def test_the_calibration_is_the_capacity_before_the_first_knee(ramp_analysis: Any) -> None:
    a = ramp_analysis
    meta = {"calibration": {"capacity_rps": 33.0, "probes": []}}
    assert capacity_of(meta, a.first_to_fail, a.knees, a.curves, a.index) == Capacity(33.0, "calibration")
    knee = capacity_of({}, a.first_to_fail, a.knees, a.curves, a.index)
    first = a.first_to_fail[0]["step"]
    low, _ = level_bracket(a.curves.of(first), a.knees[first], "arrivals_rps")
    assert knee == Capacity(low, "knee") and low > 0
    assert capacity_of({}, [], a.knees, a.curves, a.index).rps is None
    assert a.recovery is None  # a plain step ramp: the load never falls back


def test_a_metastable_run_says_so_in_analysis_json_and_every_rendering(tmp_path: Path) -> None:
    run = write_surge_run(tmp_path / "run", seconds((10, CALM), (10, SURGE), (30, DOWN)))
    with analyze_run(run) as analysis:
        doc = analysis.to_json()
    assert doc["recovery"]["metastable"] is True
    (finding,) = [f for f in doc["findings"] if f["kind"] == "recovery"]
    assert finding["retry_share"] == 0.5
    assert (
        "sign-in had not recovered by the end of the run, 30 s after the load fell below "
        "capacity: metastable (retries made 50.0% of the load)" in headline(doc["findings"])
    )
    assert any("stuck in overload (metastable)" in s for s in sentences(doc["findings"]))
    assert {"k": "sign-in recovery", "v": "none: metastable",
            "n": "not recovered 30 s after the load fell below capacity; retries 50.0% of the load"
            } in tiles(doc["findings"])


def test_a_recovered_run_says_how_long_in_each_register(tmp_path: Path) -> None:
    plan = seconds((10, CALM), (10, SURGE), (K, DOWN), (23, CALM))
    with analyze_run(write_surge_run(tmp_path / "run", plan)) as analysis:
        findings = analysis.to_json()["findings"]
    assert (
        "sign-in recovered 7 s after the surge fell below capacity (20.0 sign-in journeys/s, "
        "from the calibration)" in headline(findings)
    )
    assert any("sign-in recovered in 7 seconds" in s for s in sentences(findings))
    assert {"k": "sign-in recovered", "v": "7 s",
            "n": "after the load fell below capacity (20.0 journeys/s)"} in tiles(findings)
