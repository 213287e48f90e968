"""Capacity curves: per step, goodput and latency percentiles against offered load.

A curve is a list of *points*; each point pools a set of windows of one step.

Step-ramp runs (meta.levels non-empty), steady-state rule: a window counts for level L
when it lies wholly inside [L.start + settle_s, L.end) and is not the last such window of
the level. The first settle_s seconds after a load change are transient (queues fill or
drain, completions of the previous level spill over) and the last window's arrivals
complete in the next level. Each level gives one point per step, in level order.

Continuous shapes (no levels), binned rule: the windows wholly inside the run with
offered load > 0 are binned per step by offered load into up to 20 equal-width bins;
bins with fewer than 3 windows are dropped (when the step has at least 9 windows) as too
noisy. Points are in ascending offered load. A surge that rises and falls back (its new
people's arrivals, first attempts, or else the journeys' total offered load, over 5
windows, fall below half their peak after it)
(its last 10 windows all below half its peak: an oscillating mix does not count) gives
curves from its rise only, up to the first window at 90% of its peak: in an
overload that lasts, a step behind a collapsed one sees little load and long waits,
and after it the target recovers (queues drain, retries pile up); either would read as
a knee at the lowest load. Those windows are binned by the surge's load (its journeys'
arrivals) for every step, so that a step behind a failing one (sign-out, when few
sign-ins succeed) is binned with the surge it failed at; its points are in ascending
surge load. Recovery is measured apart (analysis.recovery).

A point's rates are totals over its windows divided by their duration; its latency
percentiles are computed from the raw records completing in those windows, never by
averaging window percentiles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from authsurge.analysis.record_index import RecordIndex
from authsurge.analysis.windows import PERCENTILE_COLUMNS, error_columns

MAX_BINS = 20
MIN_WINDOWS_PER_BIN = 3

STEADY_RULE = (
    "step-ramp: a window counts for a level when it lies wholly inside "
    "[level start + settle_s, level end) and is not the last such window of the "
    "level; one point per level and step"
)
BINNED_RULE = (
    "continuous shape: windows wholly inside the run with offered load > 0 are "
    f"binned per step into up to {MAX_BINS} equal-width bins of offered load; bins "
    f"with fewer than {MIN_WINDOWS_PER_BIN} windows are dropped; a surge that ends below "
    "half its peak (first attempts) counts only up to its first window at 90% of the peak or its "
    "collapse (its rise), "
    "every step binned by the surge's journey arrivals"
)
FALL_SMOOTH_WINDOWS = 5
FALL_TAIL_WINDOWS = 10  # a fall is the run's last 10 windows below half the peak


@dataclass
class Curves:
    """Curve points of every series plus which windows each point pooled."""

    mode: str  # "steady_levels" or "binned"
    rule: str
    settle_s: float
    points: pd.DataFrame  # one row per (series, point); see _aggregate
    membership: np.ndarray  # int32 [n_series, n_windows]: global point row, -1 when unused

    def of(self, series: str) -> pd.DataFrame:
        """The points of one series, in curve order."""
        return self.points[self.points["series"] == series].reset_index(drop=True)


def capacity_curves(
    index: RecordIndex,
    windows: pd.DataFrame,
    meta: dict[str, Any],
    settle_s: float,
    warnings: list[str] | None = None,
) -> Curves:
    levels = _levels(meta)
    inside = windows_inside_run(index, meta)
    if levels:
        membership, level_of_point, level_rates = _steady_membership(
            index, levels, settle_s, inside, warnings
        )
        mode, rule = "steady_levels", STEADY_RULE
    else:
        membership = _binned_membership(index, windows, inside)
        level_of_point, level_rates = None, None
        mode, rule = "binned", BINNED_RULE
    points, membership = _aggregate(index, windows, membership, level_of_point, level_rates)
    return Curves(mode, rule, float(settle_s), points, membership)


def _levels(meta: dict[str, Any]) -> list[tuple[float, float, float]]:
    out = []
    for lv in meta.get("levels") or []:
        try:
            start, end, rate = float(lv["start"]), float(lv["end"]), float(lv.get("rate", np.nan))
        except (KeyError, TypeError, ValueError):
            continue
        if end > start:
            out.append((start, end, rate))
    return sorted(out)


def windows_inside_run(index: RecordIndex, meta: dict[str, Any]) -> np.ndarray:
    """Windows that lie wholly between the run start and its end (a partial last window lies)."""
    w = np.arange(index.n_windows)
    start = index.window_start(w)
    end = start + index.window_s
    ended = meta.get("ended_at")
    run_end = (
        float(ended) if isinstance(ended, int | float) else index.window_start(index.n_windows)
    )
    begun = meta.get("started_at")
    run_start = float(begun) if isinstance(begun, int | float) else index.t0
    eps = 1e-9 * max(1.0, abs(index.t0))
    return (start >= run_start - eps) & (end <= run_end + eps)


def _steady_membership(
    index: RecordIndex,
    levels: list[tuple[float, float, float]],
    settle_s: float,
    inside: np.ndarray,
    warnings: list[str] | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    w = np.arange(index.n_windows)
    start = index.window_start(w)
    end = start + index.window_s
    eps = 1e-6
    level_of_window = np.full(index.n_windows, -1, dtype=np.int32)
    short = 0
    for i, (a, b, _) in enumerate(levels):  # a loop over levels (tens), not records
        steady = np.flatnonzero((start >= a + settle_s - eps) & (end <= b + eps) & inside)
        steady = steady[:-1]  # the last window's arrivals complete in the next level
        if steady.size == 0:
            short += 1
        level_of_window[steady] = i
    if short and warnings is not None:
        warnings.append(
            f"{short} of {len(levels)} load levels too short for a steady-state point "
            f"(settle_s={settle_s:g}, window_s={index.window_s:g}); they are ignored"
        )
    membership = np.broadcast_to(level_of_window, (index.n_series, index.n_windows)).copy()
    level_rates = np.array([r for _, _, r in levels])
    return membership, np.arange(len(levels)), level_rates


def surge_journeys(index: RecordIndex) -> list[int]:
    """The series of the surge's journeys (no cohort prefix: not population:, warmup:)."""
    return [
        s
        for s, (name, scope) in enumerate(zip(index.series_names, index.series_scopes, strict=True))
        if scope != "request" and not name.startswith(("population:", "warmup:"))
    ]


def the_rise(
    index: RecordIndex,
    offered: np.ndarray,
    ok: np.ndarray,
    inside: np.ndarray,
    firsts: np.ndarray | None = None,
) -> np.ndarray:
    """When the run's last windows are below half the surge's peak (module docstring):
    the windows up to the first at 90% of that peak and before any journey's goodput
    first falls below half its running best (a collapse); every window otherwise.

    The surge is its new people (`firsts`: first attempts per window) when the run has
    them: retries keep the journeys' offered load up after the planned surge fell, and
    that metastable fall is the one that most needs cutting off. Without them, the
    journeys' offered load."""
    journeys = surge_journeys(index)
    keep = np.ones(index.n_windows, dtype=bool)
    if not journeys or index.n_windows < 3 * FALL_SMOOTH_WINDOWS:
        return keep
    demand = (
        firsts.astype(float)
        if firsts is not None and firsts.any()
        else offered[journeys].sum(axis=0)
    )
    # inside the run only: the drain after a ramp that ends at its peak is no fall
    total = np.where(inside, _smooth(demand, inside), np.nan)
    if not np.isfinite(total).any() or np.nanmax(total) <= 0:
        return keep
    peak = float(np.nanmax(total))
    at_peak = int(np.nanargmax(total))
    tail = total[at_peak:][np.isfinite(total[at_peak:])][-FALL_TAIL_WINDOWS:]
    if len(tail) < FALL_TAIL_WINDOWS or tail.max() >= 0.5 * peak:
        return keep
    end = int(np.flatnonzero(total >= 0.9 * peak)[0])
    for s in journeys:  # the first journey to collapse ends the rise
        good = _smooth(ok[s], inside)
        best = np.maximum.accumulate(good)
        collapsed = np.flatnonzero((good < 0.5 * best) & (best > 0) & inside)
        if len(collapsed):
            end = min(end, int(collapsed[0]) - 1)
    keep[end + 1 :] = False
    return keep


def _smooth(values: np.ndarray, inside: np.ndarray) -> np.ndarray:
    kernel = np.ones(FALL_SMOOTH_WINDOWS) / FALL_SMOOTH_WINDOWS
    return np.convolve(np.where(inside, values, 0.0), kernel, mode="same")


def _binned_membership(index: RecordIndex, windows: pd.DataFrame, inside: np.ndarray) -> np.ndarray:
    offered = windows["offered_rps"].to_numpy().reshape(index.n_series, index.n_windows)
    ok = windows["ok"].to_numpy(dtype=float).reshape(index.n_series, index.n_windows)
    # new people, dropped ones too (the generator's cap must not flatten the surge)
    firsts = index.arrival_attempts()[1][surge_journeys(index)].sum(axis=0)
    rise = the_rise(index, offered, ok, inside, firsts)
    inside = inside & rise
    # a surge's rise: every series binned by the surge's own load (its journeys' arrivals),
    # so a step that sees little load because the one before it fails is binned with the
    # surge it failed at, not with the quiet start
    by = (
        np.broadcast_to(offered[surge_journeys(index)].sum(axis=0), offered.shape)
        if not rise.all()
        else offered
    )
    membership = np.full((index.n_series, index.n_windows), -1, dtype=np.int32)
    for s in range(index.n_series):  # per series (a handful)
        use = inside & (offered[s] > 0)
        n = int(use.sum())
        if n == 0:
            continue
        bins = max(1, min(MAX_BINS, n // MIN_WINDOWS_PER_BIN))
        top = by[s][use].max()
        edges = np.linspace(0.0, top, bins + 1)
        b = np.clip(np.searchsorted(edges, by[s], side="left") - 1, 0, bins - 1)
        b = np.where(use, b, -1)
        if n >= 3 * MIN_WINDOWS_PER_BIN:  # with fewer windows every bin is precious
            counts = np.bincount(b[b >= 0], minlength=bins)
            b = np.where((b >= 0) & (counts[np.maximum(b, 0)] < MIN_WINDOWS_PER_BIN), -1, b)
        membership[s] = b
    return membership


def _aggregate(
    index: RecordIndex,
    windows: pd.DataFrame,
    membership: np.ndarray,
    level_of_point: np.ndarray | None,
    level_rates: np.ndarray | None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Pool the windows of each (series, local point) into one row; renumber points globally."""
    n_s, n_w = index.n_series, index.n_windows
    local = membership.reshape(-1)
    n_local = int(local.max()) + 1 if local.size and local.max() >= 0 else 0
    series_of_row = np.repeat(np.arange(n_s), n_w)
    key = np.where(local >= 0, series_of_row * max(n_local, 1) + local, -1)
    size = n_s * max(n_local, 1)
    used = key >= 0

    def total(column: str) -> np.ndarray:
        return np.bincount(key[used], weights=windows[column].to_numpy()[used], minlength=size)

    n_windows = np.bincount(key[used], minlength=size)
    keep = n_windows > 0
    offered = total("offered")
    completed = total("completed")
    keep &= (offered > 0) | (completed > 0)
    rows = np.flatnonzero(keep)
    global_id = np.full(size, -1, dtype=np.int32)
    global_id[rows] = np.arange(rows.size, dtype=np.int32)
    new_membership = np.where(used, global_id[np.maximum(key, 0)], -1).reshape(n_s, n_w)

    duration = n_windows[rows] * index.window_s
    wstart = windows["t"].to_numpy()
    first = np.full(size, np.inf)
    last = np.full(size, -np.inf)
    np.minimum.at(first, key[used], wstart[used])  # windows, not records: tens of thousands
    np.maximum.at(last, key[used], wstart[used])
    ok = total("ok")
    points = pd.DataFrame(
        {
            "series": pd.Categorical.from_codes(
                rows // max(n_local, 1), categories=index.series_names
            ),
            "scope": [index.series_scopes[s] for s in rows // max(n_local, 1)],
            "point": rows % max(n_local, 1),
            "windows": n_windows[rows],
            "seconds": duration,
            "t_first": first[rows],
            "t_last": last[rows] + index.window_s,
            "offered_rps": offered[rows] / duration,
            "arrivals_rps": total("arrivals_rps")[rows] / n_windows[rows],
            "goodput_rps": ok[rows] / duration,
            "completed": completed[rows].astype(np.int64),
            "ok": ok[rows].astype(np.int64),
            "errors": (completed[rows] - ok[rows]).astype(np.int64),
        }
    )
    points["pid"] = np.arange(rows.size, dtype=np.int32)  # the id used in Curves.membership
    with np.errstate(invalid="ignore", divide="ignore"):
        points["error_rate"] = np.where(
            points["completed"] > 0, points["errors"] / points["completed"], np.nan
        )
    for column in error_columns(windows):
        points[column] = total(column)[rows].astype(np.int64)
    if level_of_point is not None and level_rates is not None:
        points["level"] = points["point"].to_numpy()
        points["level_rate"] = level_rates[points["point"].to_numpy()]
    else:
        points["level"] = -1
        points["level_rate"] = np.nan
    points["concurrency"] = total("concurrency")[rows] / n_windows[rows]

    # percentiles from the raw records completing in each point's windows
    # the digest samples the windows the points pool: gathered in the same pass
    _, pct = index.latency_quantiles(new_membership, rows.size, gather_sample=True)
    for j, name in enumerate(PERCENTILE_COLUMNS):
        points[name] = pct[:, j]
    return points, new_membership
