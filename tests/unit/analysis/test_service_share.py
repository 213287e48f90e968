"""Apportioning an inseparable unit's cost by the steps' unloaded response times
(authsurge.analysis.service_share)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from authsurge.analysis.curves import Curves
from authsurge.analysis.service_share import apportion, unloaded_times


def curves(rows: list[tuple[str, float, int, float]]) -> Curves:
    """(series, t_last, completed, p50) rows."""
    points = pd.DataFrame(rows, columns=["series", "t_last", "completed", "p50"])
    return Curves("binned", "", 0.0, points, np.zeros((0, 0), np.int32))


def test_the_unloaded_time_is_the_lowest_p50_of_the_points_that_ended_before_the_knees() -> None:
    c = curves([
        ("login.submit", 10.0, 50, 60.0),
        ("login.submit", 20.0, 50, 50.0),
        ("login.submit", 40.0, 50, 900.0),  # after the knees: queued, not served
        ("login.submit", 15.0, 5, 1.0),  # too few requests for a p50
        ("login.form", 40.0, 50, 3.0),  # nothing before the knees
    ])
    got = unloaded_times(c, ["login.submit", "login.form"], t_to=30.0)
    assert got == {"login.submit": {"p50_ms": 50.0, "requests": 105.0}}


def test_a_step_is_named_only_when_it_holds_half_the_time_and_twice_the_next() -> None:
    def times(a: float, b: float) -> dict[str, dict[str, float]]:
        return {"x": {"p50_ms": a, "requests": 10.0}, "y": {"p50_ms": b, "requests": 10.0}}

    named = apportion(["x", "y"], times(30.0, 10.0))
    assert named is not None and named["step"] == "x" and named["shares"]["x"] == 0.75
    assert apportion(["x", "y"], times(15.0, 10.0)) is None  # 60%, but not 2x the next
    assert apportion(["x", "y", "z"], times(30.0, 10.0)) is None  # z has no unloaded time
