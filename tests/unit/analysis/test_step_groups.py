"""Step groups over time (analysis.step_groups): sign-in, sign-out and the API of signed-in
people per window, and the surge's sign-in load behind them, on planted runs."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from authsurge.analysis import analyze_run
from authsurge.analysis.step_groups import (
    API_GROUP,
    SIGN_IN_GROUP,
    SIGN_OUT_GROUP,
    group_series,
    group_windows,
    planned_per_window,
    sign_in_load,
)
from tests.support.records import frame, index_of
from tests.unit.analysis.surge_runs import (
    T0,
    Second,
    schedule,
    seconds,
    surge_rows,
    write_surge_run,
)


def test_each_group_takes_its_own_steps_and_the_population_api_leaves_out_its_sign_ins() -> None:
    names = ["login.form", "login.submit", "api.call", "logout", "oidc.logout",
             "population:api.call", "population:orders", "population:login.submit",
             "population:token.refresh", "population:logout", "oidc.token"]
    assert group_series(names) == {
        SIGN_IN_GROUP: ["login.form", "login.submit", "oidc.token"],
        SIGN_OUT_GROUP: ["logout", "oidc.logout"],
        API_GROUP: ["population:api.call", "population:orders"],
    }


def test_errors_requests_and_p95_per_window_and_group(tmp_path: Path) -> None:
    plan = seconds((2, Second(4, logout=True)), (2, Second(4, ok=False, latency_ms=300.0)))
    api = {0: (True, 10.0), 1: (True, 12.0), 2: (False, 50.0), 3: (True, 14.0)}
    index = index_of(surge_rows(plan, api_per_s=5, api=api.__getitem__), tmp_path, T0, 1.0, T0 + 4)
    try:
        groups = group_windows(index.windows, index, T0)
    finally:
        index.close()
    assert list(groups) == [SIGN_IN_GROUP, SIGN_OUT_GROUP, API_GROUP]
    sign_in, sign_out, people = groups[SIGN_IN_GROUP], groups[SIGN_OUT_GROUP], groups[API_GROUP]
    # the last second's slow failures complete in window 4 (by completion window)
    assert sign_in["t_s"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert sign_in["requests"].tolist() == [4, 4, 3, 4, 1]
    assert sign_in["error_rate"].tolist() == [0.0, 0.0, 1.0, 1.0, 1.0]
    assert sign_out["requests"].tolist() == [4, 4, 0, 0, 0]
    assert math.isnan(sign_out["error_rate"][2]) and math.isnan(sign_out["p95_ms"][2])
    assert people["errors"].tolist() == [0, 0, 5, 0, 0]
    assert people["p95_ms"][:4].tolist() == pytest.approx([10.0, 12.0, 50.0, 14.0])
    assert people.attrs["series"] == ["population:api.call"]


def test_a_groups_p95_is_its_slowest_steps_and_a_group_without_requests_is_left_out(
    tmp_path: Path,
) -> None:
    rows = frame([{"step": "login.form", "t_start": T0 + 0.1 * i, "latency_ms": 5.0} for i in range(5)]
                 + [{"step": "login.submit", "t_start": T0 + 0.1 * i, "latency_ms": 300.0}
                    for i in range(5)])
    index = index_of(rows, tmp_path, T0, 1.0, T0 + 1)
    try:
        groups = group_windows(index.windows, index, T0)
        assert sign_in_load(index.windows, index, T0, None) is None  # no journey rows
    finally:
        index.close()
    assert list(groups) == [SIGN_IN_GROUP]
    assert groups[SIGN_IN_GROUP]["p95_ms"].tolist() == pytest.approx([300.0])


def test_the_sign_in_load_counts_every_arrival_the_first_attempts_and_the_plan(tmp_path: Path) -> None:
    plan = seconds((3, Second(10)), (2, Second(10, ok=False, latency_ms=5.0, retries=10)))
    index = index_of(surge_rows(plan), tmp_path, T0, 1.0, T0 + 5)
    try:
        load = sign_in_load(index.windows, index, T0, schedule(plan))
    finally:
        index.close()
    assert load is not None and load.attrs["journeys"] == ["web_login"]
    assert load["arrivals_rps"].tolist() == [10, 10, 10, 20, 20]
    assert load["first_attempts_rps"].tolist() == [10] * 5
    assert load["planned_rps"].tolist() == [10.0] * 5


class Grid:
    """A window grid of 2-second windows from T0 - 2 (records before the run's start)."""

    t0 = T0 - 2.0
    window_s = 2.0
    n_windows = 5


def test_the_plan_is_averaged_over_each_window_and_unknown_outside_the_schedule() -> None:
    plan = pd.DataFrame({"t": T0 + np.arange(6.0), "journey": "web_login",
                         "planned_rate": [10.0, 30.0, 40.0, 40.0, 5.0, 7.0]})
    planned = planned_per_window(plan, ["web_login"], Grid())  # type: ignore[arg-type]
    assert planned is not None
    assert np.isnan(planned[0]) and np.isnan(planned[4])  # before and after the schedule
    assert planned[1:4].tolist() == [20.0, 40.0, 6.0]
    assert planned_per_window(plan, ["other"], Grid()) is None  # type: ignore[arg-type]


def test_a_run_analysis_gives_the_groups_and_the_load_to_a_notebook(tmp_path: Path) -> None:
    plan = seconds((5, Second(4, logout=True)))
    with analyze_run(write_surge_run(tmp_path / "run", plan, capacity=None, population=True,
                                     api_per_s=3)) as analysis:
        groups = analysis.step_groups()
        load = analysis.sign_in_load()
    assert list(groups) == [SIGN_IN_GROUP, SIGN_OUT_GROUP, API_GROUP]
    assert groups[API_GROUP]["requests"].sum() == 15
    assert load is not None and load["planned_rps"].iloc[:5].tolist() == [4.0] * 5
