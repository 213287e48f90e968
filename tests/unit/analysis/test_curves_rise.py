"""A surge that ends below half its peak gives capacity curves from its rise only
(analysis/curves.py the_rise): its fall (and a collapse) never reads as a knee at low load."""

from __future__ import annotations

from pathlib import Path

from authsurge.analysis import analyze_run
from tests.unit.analysis.surge_runs import Second, seconds, write_surge_run

# 10/s for 10 s, a rise to 40/s over 10 s, 5 s at 40/s, then back to 10/s for 15 s: the
# fall's sign-ins are slow (a recovering target), the rise's are fast
RISE = [(1, Second(10 + 3 * k)) for k in range(10)]
SURGE = seconds((10, Second(10)), *RISE, (5, Second(40)), (15, Second(10, latency_ms=3000.0)))
# the same load that does not fall back: every window counts
STAYS = seconds((10, Second(10)), *RISE, (20, Second(40)))


def curve_end_s(tmp_path: Path, plan: list[Second]) -> float:
    with analyze_run(write_surge_run(tmp_path, plan)) as analysis:
        points = analysis.curves.of("login.submit")
        return float(points["t_last"].max() - 1_700_000_000.0)


def test_the_fall_after_a_surge_is_left_out_of_the_curves(tmp_path):
    # the first window at 90% of the (5-window) peak is in the last second of the rise
    assert curve_end_s(tmp_path / "surge", SURGE) <= 21.0


def test_a_load_that_stays_high_keeps_every_window(tmp_path):
    assert curve_end_s(tmp_path / "stays", STAYS) >= 35.0




def test_a_fall_of_new_people_kept_up_by_retries_is_still_a_fall(tmp_path):
    # after the rise, new people fall back to 10/s but 30 retries a second keep the
    # journeys' offered load at the peak (a metastable fall): the new people decide
    metastable = seconds((10, Second(10)), *RISE, (5, Second(40)),
                         (15, Second(10, latency_ms=3000.0, retries=30)))
    assert curve_end_s(tmp_path / "metastable", metastable) <= 21.0
