"""Step groups over time: the surge's sign-in, its sign-out and the API of the people already
signed in, window by window, with the surge's sign-in load behind them (the report's
"sign-in against the API" panel; usable from a notebook):

    from authsurge.analysis import analyze_run
    with analyze_run("runs/<id>") as analysis:
        frames = analysis.step_groups()      # {"sign-in": DataFrame, ...}
        load = analysis.sign_in_load()       # DataFrame or None

The groups (GROUPS, each only when the run has its requests):
- "sign-in": the surge's requests of the sign-in step groups (form_login, oidc_login,
  json_login, password_grant, totp: login.form, login.submit, oidc.authorize, ...,
  oidc.token, login.json, token.password, mfa.totp);
- "sign-out": the surge's requests of the sign-out step groups (form_logout, oidc_logout:
  logout.form, logout, oidc.logout);
- "API of signed-in people": the population's "population:<step>" requests other than its
  own sign-ins, refreshes and sign-outs (analysis.population's API).

Per window, by the window table's rules (errors and latency by completion window): t_s
(the window's start, seconds from the run's start), requests (completed), errors,
error_rate (NaN without requests) and p95_ms: the highest p95 of the group's steps in the
window. A group mixes fast page loads with the slow password check; the slowest step is
the one people wait on, and a percentile of the mix would hide it.

The sign-in load: the surge's journeys that sign in (their requests include a sign-in
step; the population's own journeys are not the surge's), per arrival window: all their
arrivals (retries and drops included), first attempts, and the planned rate of
schedule.parquet (NaN without one).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pandas as pd

from authsurge.analysis.population import SIGN_IN, api_series
from authsurge.rundir import records as record
from authsurge.scenario import STEP_REQUESTS

SIGN_OUT = tuple(n for g in ("form_logout", "oidc_logout") for n in STEP_REQUESTS[g])
SIGN_IN_GROUP = "sign-in"
SIGN_OUT_GROUP = "sign-out"
API_GROUP = "API of signed-in people"
GROUPS = (SIGN_IN_GROUP, SIGN_OUT_GROUP, API_GROUP)
COLUMNS = ("t_s", "requests", "errors", "error_rate", "p95_ms")
COHORTS = tuple(c + ":" for c in (record.POPULATION, record.WARMUP))
EDGE_SLACK_S = 1e-6  # window edges and schedule seconds are both epoch floats


class WindowGrid(Protocol):
    """The run's windows (record_index.RecordIndex)."""

    @property
    def t0(self) -> float: ...

    @property
    def window_s(self) -> float: ...

    @property
    def n_windows(self) -> int: ...


class GroupIndex(WindowGrid, Protocol):
    """What the groups need of the run's index (record_index.RecordIndex)."""

    @property
    def series_names(self) -> list[str]: ...

    @property
    def journey_names(self) -> list[str]: ...

    def journey_series(self, journey: str) -> str: ...

    def journeys_of_steps(self) -> dict[str, list[str]]: ...

    def arrival_attempts(self) -> tuple[np.ndarray, np.ndarray]: ...


def group_series(series_names: list[str]) -> dict[str, list[str]]:
    """The series of each group (module docstring), in the run's series order."""
    return {
        SIGN_IN_GROUP: [s for s in series_names if s in SIGN_IN],
        SIGN_OUT_GROUP: [s for s in series_names if s in SIGN_OUT],
        API_GROUP: api_series(series_names),
    }


def per_series(windows: pd.DataFrame, n_series: int, column: str) -> np.ndarray:
    """A column of the window table as [n_series, n_windows] (the table is series-major)."""
    return windows[column].to_numpy(dtype=float).reshape(n_series, -1)


def window_times(index: WindowGrid, started_at: float) -> np.ndarray:
    """Each window's start in seconds from the run's start (window 0's start without one)."""
    origin = started_at if np.isfinite(started_at) else index.t0
    return index.t0 - origin + np.arange(index.n_windows) * index.window_s


def group_windows(
    windows: pd.DataFrame, index: GroupIndex, started_at: float
) -> dict[str, pd.DataFrame]:
    """Per group with requests, its errors and p95 per window (module docstring); the frame's
    attrs["series"] lists the group's series."""
    names = index.series_names
    completed = per_series(windows, len(names), "completed")
    ok = per_series(windows, len(names), "ok")
    p95 = per_series(windows, len(names), "p95")
    t = window_times(index, started_at)
    out = {}
    for group, series in group_series(names).items():
        rows = [names.index(s) for s in series]
        done = completed[rows].sum(axis=0)
        if not rows or not done.any():
            continue  # a group without requests has no line to draw
        errors = done - ok[rows].sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(done > 0, errors / done, np.nan)
        slowest = p95[rows]
        frame = pd.DataFrame(
            {
                "t_s": t,
                "requests": done.astype(np.int64),
                "errors": errors.astype(np.int64),
                "error_rate": rate,
                # a window where none of the group's steps completed has no p95
                "p95_ms": slowest_p95(slowest),
            }
        )
        frame.attrs["series"] = series
        out[group] = frame
    return out


def slowest_p95(p95: np.ndarray) -> np.ndarray:
    """Per window, the highest p95 over the rows (steps); NaN where none completed."""
    finite = np.isfinite(p95)
    return np.where(finite.any(axis=0), np.nanmax(np.where(finite, p95, -np.inf), axis=0), np.nan)


def sign_in_journeys(index: GroupIndex) -> list[str]:
    """The surge's journeys that sign in: their requests include a sign-in step (the
    population's and warm-up's journeys are their own cohorts', not the surge's)."""
    by_step = index.journeys_of_steps()
    found = [j for step in SIGN_IN for j in by_step.get(step, [])]
    return [
        j
        for j in index.journey_names
        if j in found
        and not j.startswith(COHORTS)
        and index.journey_series(j) in index.series_names
    ]


def surge_journeys(index: GroupIndex) -> list[str]:
    """Every journey of the surge's cohort with journey rows."""
    return [
        j
        for j in index.journey_names
        if not j.startswith(COHORTS) and index.journey_series(j) in index.series_names
    ]


def planned_per_window(
    schedule: pd.DataFrame | None, journeys: list[str], index: GroupIndex
) -> np.ndarray | None:
    """The planned arrivals/s of these journeys averaged over each window, NaN for a window
    not wholly inside the schedule (its end is not a fall of the load); None when
    schedule.parquet does not plan them. The schedule holds one rate per second, constant
    over that second: the arrivals it plans up to a time are exact to interpolate."""
    if schedule is None or schedule.empty or not journeys:
        return None
    mine = schedule[schedule["journey"].astype(str).isin(journeys)]
    if mine.empty:
        return None
    per_second = mine.groupby("t", sort=True)["planned_rate"].sum()
    start = float(per_second.index.min())
    seconds = np.rint(per_second.index.to_numpy(dtype=float) - start).astype(np.int64)
    rates = np.zeros(int(seconds.max()) + 1)
    np.add.at(rates, seconds, per_second.to_numpy(dtype=float))
    planned_by = np.concatenate([[0.0], np.cumsum(rates)])  # arrivals by each second's end
    edges = index.t0 + np.arange(index.n_windows + 1) * index.window_s - start
    by_edge = np.interp(edges, np.arange(rates.size + 1), planned_by)
    inside = (edges[:-1] >= -EDGE_SLACK_S) & (edges[1:] <= rates.size + EDGE_SLACK_S)
    return np.where(inside, np.diff(by_edge) / index.window_s, np.nan)


def sign_in_load(
    windows: pd.DataFrame,
    index: GroupIndex,
    started_at: float,
    schedule: pd.DataFrame | None,
) -> pd.DataFrame | None:
    """The surge's sign-in journeys per arrival window (module docstring): t_s,
    arrivals_rps, first_attempts_rps, planned_rps; attrs["journeys"]. None without any."""
    journeys = sign_in_journeys(index)
    if not journeys:
        return None
    rows = [index.series_names.index(index.journey_series(j)) for j in journeys]
    offered = per_series(windows, len(index.series_names), "offered")[rows].sum(axis=0)
    _, firsts = index.arrival_attempts()
    planned = planned_per_window(schedule, journeys, index)
    frame = pd.DataFrame(
        {
            "t_s": window_times(index, started_at),
            "arrivals_rps": offered / index.window_s,
            "first_attempts_rps": firsts[rows].sum(axis=0) / index.window_s,
            "planned_rps": planned if planned is not None else np.full(index.n_windows, np.nan),
        }
    )
    frame.attrs["journeys"] = journeys
    return frame
