"""What the cost model (authsurge.analysis.cost) is fitted on, from a run's RecordIndex: when
each step's requests were served, the span below the first knee, the target's resource
samples and each step's request rate at the first knee."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from authsurge.analysis.bottleneck import CPU_BUSY_SHARE, ONE_CORE_MAX
from authsurge.analysis.cost import Completions, Resource
from authsurge.analysis.curves import Curves, windows_inside_run
from authsurge.analysis.knee import Knee
from authsurge.analysis.record_index import RecordIndex
from authsurge.analysis.windows import SCOPE_REQUEST

SMOOTH_WINDOWS = 5  # the cost model's span ends where arrivals, averaged this wide, reach a knee


def requests_per_journey(index: RecordIndex) -> dict[str, float]:
    """Requests of each step per journey arrival over the run (none without journey rows)."""
    arrivals = index.arrivals()["attempts"]
    if not arrivals:
        return {}
    total, _, _ = index.series_totals()
    return {
        name: total[s] / arrivals if scope == SCOPE_REQUEST else 0.0
        for s, (name, scope) in enumerate(zip(index.series_names, index.series_scopes, strict=True))
    }


def sample_edges(resources: list[Resource]) -> np.ndarray:
    """Every boundary of the resources' sample intervals, unique and ascending (epoch s)."""
    return np.unique(
        np.concatenate([np.concatenate([r.start, r.end]) for r in resources])
        if resources
        else np.zeros(0)
    )


def completions(
    index: RecordIndex, request_steps: list[str], resources: list[Resource]
) -> Completions:
    """When each step's requests were served and each journey's people arrived (cost model),
    counted up to every boundary of the resources' sample intervals.

    A request counts at its middle (start + latency / 2): the target spends its CPU while
    serving it, and a 30-ms hash counted at its end lands in the wrong sample interval
    often enough to shrink the fitted cost measurably."""
    edges = sample_edges(resources)
    steps, arrivals = index.counts_up_to(edges)
    zero = np.zeros(len(edges), np.int64)
    journeys_of = index.journeys_of_steps()
    return Completions(
        edges,
        {n: steps.get(n, zero) for n in request_steps},
        {n: journeys_of.get(n, []) for n in request_steps},
        {name: arrivals.get(name, zero) for name in index.journey_names},
    )


def before_knees(
    index: RecordIndex,
    windows: pd.DataFrame,
    curves: Curves,
    knees: dict[str, Knee],
    request_steps: list[str],
    meta: dict[str, Any],
) -> tuple[float, float]:
    """The span the cost model may use: the run, up to where the surge first reaches a
    knee (a queue built there drains later, so the cut is in time, not by load).

    With journey rows, that is the first window whose journey arrivals, averaged over
    SMOOTH_WINDOWS, reach the lowest knee's arrivals/s (one window of chance load must not
    end it). Without, it is the start of the earliest first failing curve point."""
    inside = np.flatnonzero(windows_inside_run(index, meta))
    if not inside.size:
        return math.nan, math.nan
    start = float(index.window_start(int(inside[0])))
    end = float(index.window_start(int(inside[-1]) + 1))
    reached = [knees[n] for n in request_steps if knees[n].reached]
    arrivals = windows["arrivals_rps"].to_numpy(dtype=float)[: index.n_windows]
    surge = [k.arrivals for k in reached if k.arrivals is not None]
    if surge and np.isfinite(arrivals).any():
        kernel = np.ones(SMOOTH_WINDOWS) / SMOOTH_WINDOWS
        smooth = np.convolve(np.nan_to_num(arrivals), kernel, mode="same")
        at = np.flatnonzero(smooth >= min(surge))
        if at.size:
            end = min(end, float(index.window_start(int(at[0]))))
        return start, end
    for name in request_steps:
        k = knees[name]
        if k.reached and k.first_fail_point is not None:
            end = min(end, float(curves.of(name)["t_first"].iloc[k.first_fail_point]))
    return start, end


def resources_of(resources: pd.DataFrame | None, metrics: pd.DataFrame | None) -> list[Resource]:
    """Target CPU and each scraped counter, over their own sample intervals."""
    out = []
    if resources is not None:
        target = resources[resources["source"].astype(str) == "target"].sort_values("t")
        t = target["t"].to_numpy(dtype=float)
        # a sample's cpu_percent covers the time since the previous one (the first primes it)
        if t.size > 1:
            percent = target["cpu_percent"].to_numpy(dtype=float)[1:]
            busiest = target["busiest_cpu_percent"].to_numpy(dtype=float)[1:]
            cores = target["cpu_count"].to_numpy(dtype=float)[1:]
            # at a CPU ceiling (all cores, or one process at one full core) the target
            # queues: what it serves there is not what arrives, so those samples are out
            ceiling = (percent >= CPU_BUSY_SHARE * 100 * np.maximum(cores, 1)) | (
                (busiest >= CPU_BUSY_SHARE * 100) & (busiest <= ONE_CORE_MAX)
            )
            cpu = np.where(ceiling, np.nan, percent * 10.0)
            out.append(Resource("target CPU", "CPU-ms", t[:-1], t[1:], cpu))
    if metrics is not None:
        for name, rows in metrics.groupby("metric", observed=True):  # metrics: a handful
            rows = rows.sort_values("t")
            t = rows["t"].to_numpy(dtype=float)
            v = rows["value"].to_numpy(dtype=float)
            if t.size < 2:
                continue
            with np.errstate(invalid="ignore", divide="ignore"):
                rate = np.diff(v) / np.diff(t)
            # a counter that went down was reset (a restart): that interval says nothing
            rate = np.where((np.diff(t) > 0) & (np.diff(v) >= 0), rate, np.nan)
            out.append(Resource(f"prometheus:{name}", str(name), t[:-1], t[1:], rate))
    return out


def rates_at_first_knee(
    ranked: list[dict[str, Any]],
    knees: dict[str, Knee],
    curves: Curves,
    windows: pd.DataFrame,
    index: RecordIndex,
    request_steps: list[str],
) -> dict[str, float]:
    """Each step's completed req/s in the windows of the first-ranked step's knee: its last
    curve point that still passed, else its first failing one.

    The last passing point is where the target was saturating with every step still
    served. At the first failing point the costly step's own completions have already
    fallen (its requests time out in the queue), so its share would be understated: one
    real run of a shared pool charged login.submit 44% there against 66% one point lower."""
    if not ranked or not ranked[0]["reached"]:
        return {}
    name = ranked[0]["step"]
    knee = knees[name]
    row = knee.last_pass_point if knee.last_pass_point is not None else knee.first_fail_point
    if row is None:
        return {}
    pid = curves.of(name)["pid"].iloc[row]
    chosen = curves.membership[index.series_of(name)] == pid
    if not chosen.any():
        return {}
    completed = windows["completed"].to_numpy(dtype=float).reshape(index.n_series, -1)
    return {
        n: float(completed[index.series_of(n)][chosen].mean() / index.window_s)
        for n in request_steps
    }
