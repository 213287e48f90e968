"""Did the API of the people already signed in stay up while the surge's sign-in failed?
(analysis.json population.contrast; the population finding carries it into the words.)

The rule (RULE): a group *stayed up* over a span (sign-in: *held*) when it had requests
there, under ERROR_LIMIT (1%) of them failed, and the highest p95 of its steps over the
span was at most the p95 limit: the scenario's analysis.knee_p95_ms when set, else
DEFAULT_P95_LIMIT_MS (1 s, a wait people notice). Otherwise it failed; without requests
it is not judged (None). The groups are analysis.step_groups': "sign-in" (the surge's
sign-in steps) and "API of signed-in people" (the population's API).

The span is the surge's peak: the arrival windows where the surge's planned sign-in rate
(the sign-in journeys' arrivals when the schedule does not plan them) was at least
PEAK_SHARE (90%) of its highest; the whole run when the run has no sign-in journeys
(over: "run"). Errors by completion window, each step's p95 exact over the span's
completion windows (one pass over the records).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import pandas as pd

from authsurge.analysis.population import group_health
from authsurge.analysis.step_groups import (
    API_GROUP,
    SIGN_IN_GROUP,
    SIGN_OUT_GROUP,
    WindowGrid,
    group_series,
    per_series,
    window_times,
)

ERROR_LIMIT = 0.01
DEFAULT_P95_LIMIT_MS = 1000.0
PEAK_SHARE = 0.9
P95_COLUMN = 2  # latency_quantiles' columns: p50, p90, p95, p99, max
RULE = (
    f"stayed up (sign-in: held): requests in the span, under {ERROR_LIMIT:.0%} of them failed "
    f"and the highest p95 of the group's steps at most p95_limit_ms (analysis.knee_p95_ms, "
    f"else {DEFAULT_P95_LIMIT_MS:g} ms); span: the windows where the surge's planned sign-in "
    f"rate (else its sign-in journeys' arrivals) was at least {PEAK_SHARE:.0%} of its highest, "
    "or the whole run without sign-in journeys"
)


class ContrastIndex(WindowGrid, Protocol):
    """What the contrast needs of the run's index (record_index.RecordIndex)."""

    @property
    def series_names(self) -> list[str]: ...

    def latency_quantiles(
        self, group_of: np.ndarray, n_groups: int, gather_sample: bool = False
    ) -> tuple[np.ndarray, np.ndarray]: ...


def peak_span(load: pd.DataFrame | None, n_windows: int) -> tuple[np.ndarray, str]:
    """The windows of the surge's peak (module docstring) and what they are ("peak" or "run")."""
    if load is not None:
        planned = load["planned_rps"].to_numpy(dtype=float)
        rate = planned if np.nansum(planned) > 0 else load["arrivals_rps"].to_numpy(dtype=float)
        rate = np.nan_to_num(rate)
        if rate.max() > 0:
            return rate >= PEAK_SHARE * rate.max(), "peak"
    return np.ones(n_windows, dtype=bool), "run"


def peak_contrast(
    windows: pd.DataFrame,
    index: ContrastIndex,
    started_at: float,
    load: pd.DataFrame | None,
    knee_p95_ms: float | None,
) -> dict[str, Any] | None:
    """The surge's sign-in against the population's API over the peak (module docstring);
    None when the run has no population API requests."""
    groups = group_series(index.series_names)
    sign_in, sign_out, api = groups[SIGN_IN_GROUP], groups[SIGN_OUT_GROUP], groups[API_GROUP]
    if not api:
        return None
    span, over = peak_span(load, index.n_windows)
    names = index.series_names
    listed = sign_in + sign_out + api
    group_of = np.full((len(names), index.n_windows), -1, dtype=np.int64)
    for g, series in enumerate(listed):
        group_of[names.index(series), span] = g
    _, values = index.latency_quantiles(group_of, len(listed))
    p95 = {s: values[g, P95_COLUMN] for g, s in enumerate(listed)}
    completed = per_series(windows, len(names), "completed")[:, span]
    ok = per_series(windows, len(names), "ok")[:, span]
    limit = knee_p95_ms if knee_p95_ms is not None else DEFAULT_P95_LIMIT_MS

    def stats(series: list[str]) -> dict[str, Any]:
        rows = [names.index(s) for s in series]
        requests = int(completed[rows].sum())
        errors = requests - int(ok[rows].sum())
        known = [float(p95[s]) for s in series if np.isfinite(p95[s])]
        return group_health(series, requests, errors, known)

    def stayed_up(s: dict[str, Any]) -> bool | None:
        if not s["requests"]:
            return None
        return s["error_rate"] < ERROR_LIMIT and (s["p95"] is None or s["p95"] <= limit)

    t = window_times(index, started_at)
    at = np.flatnonzero(span)
    sign_in_stats, sign_out_stats, api_stats = stats(sign_in), stats(sign_out), stats(api)
    return {
        "over": over,
        "from_s": float(t[at[0]]),
        "to_s": float(t[at[-1]] + index.window_s),
        "sign_in": sign_in_stats,
        "sign_out": sign_out_stats,
        "api": api_stats,
        "error_limit": ERROR_LIMIT,
        "p95_limit_ms": limit,
        "sign_in_held": stayed_up(sign_in_stats),
        "sign_out_held": stayed_up(sign_out_stats),
        "api_stayed_up": stayed_up(api_stats),
        "rule": RULE,
    }
