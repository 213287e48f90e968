"""Which target resource was saturated at each step's knee (from resources.parquet).

Looked at over the windows of the step's first failing curve point (its knee), or of its
highest-load point when no knee was reached:

- CPU-bound: target CPU >= 90% of cpu_count x 100% ("CPU-bound: 195% of 2 cores");
- CPU-bound per process: the busiest target process near 100% of one core while cores
  are left (one gunicorn worker, its threads sharing one GIL: more workers would help);
  runs recorded before the busiest process was sampled: fewer target processes than
  cores, each near 100%;
- memory growth: target RSS at the knee >= 1.5x its level at the step's first point;
- otherwise "none visible": the limit is elsewhere (locks, connection pools, the
  database, a rate limiter) and the CPU figure says how much room was left.

The harness is checked too: when the knee (or the peak load) was judged while the load
generator was saturated (``knee.generator_bound``, rule in authsurge.selfcheck), the knee
may be the harness's own ("harness_warning", with its CPU and loop lag there).

Capacity is normalised per target CPU core ("req/s per vCPU") with the target's cpu_count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from authsurge.analysis.curves import Curves
from authsurge.analysis.knee import Knee, finite_or_none
from authsurge.analysis.record_index import RecordIndex
from authsurge.analysis.selfcheck import warning_text

CPU_BUSY_SHARE = 0.9
ONE_CORE_MAX = 110.0  # percent: a process this busy is using one core, not several
MEMORY_GROWTH = 1.5


@dataclass
class ResourceWindows:
    """Resource samples averaged per analysis window (NaN where nothing was sampled)."""

    target_cpu: np.ndarray  # percent, 100 = one core
    target_rss: np.ndarray  # bytes
    target_processes: np.ndarray
    target_busiest: np.ndarray  # percent of one core, the busiest process (NaN: not sampled)
    cpu_count: int | None  # cores the target may use
    harness_cpu: np.ndarray  # percent of the busiest harness worker
    harness_lag_ms: np.ndarray  # worst gevent loop lag


def resource_windows(resources: pd.DataFrame | None, index: RecordIndex) -> ResourceWindows | None:
    """Average the samples of each source into the analysis windows (vectorised)."""
    if resources is None or resources.empty:
        return None
    n = index.n_windows
    t = resources["t"].to_numpy(dtype=float)
    w = np.floor((t - index.t0) / index.window_s)
    inside = np.isfinite(w) & (w >= 0) & (w < n)
    source = resources["source"].astype(str)
    target = inside & (source == "target").to_numpy()
    harness = inside & source.str.startswith("harness").to_numpy()

    def mean(mask: np.ndarray, column: str) -> np.ndarray:
        values = resources[column].to_numpy(dtype=float)
        ok = mask & np.isfinite(values)
        idx = w[ok].astype(np.int64)
        total = np.bincount(idx, weights=values[ok], minlength=n)
        count = np.bincount(idx, minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / count, np.nan)

    def worst(mask: np.ndarray, column: str) -> np.ndarray:
        values = resources[column].to_numpy(dtype=float)
        ok = mask & np.isfinite(values)
        out = np.full(n, -np.inf)
        np.maximum.at(out, w[ok].astype(np.int64), values[ok])  # samples: one a second
        return np.where(np.isfinite(out), out, np.nan)

    counts = resources.loc[target, "cpu_count"].to_numpy()
    counts = counts[counts > 0]
    return ResourceWindows(
        target_cpu=mean(target, "cpu_percent"),
        target_rss=mean(target, "rss_bytes"),
        target_processes=mean(target, "processes"),
        target_busiest=mean(target, "busiest_cpu_percent"),
        cpu_count=int(counts.max()) if counts.size else None,
        harness_cpu=worst(harness, "cpu_percent"),
        harness_lag_ms=worst(harness, "loop_lag_ms"),
    )


def bottleneck(
    series: str,
    knee: Knee,
    curves: Curves,
    index: RecordIndex,
    res: ResourceWindows | None,
    unit: str = "req/s",
) -> dict[str, Any]:
    """What the target looked like at this step's knee (or at its peak load without one)."""
    points = curves.of(series)
    out: dict[str, Any] = {
        "kind": "unknown",
        "text": "",
        "at": "knee" if knee.reached else "peak load",
        "target_cpu_percent": None,
        "target_cpu_count": None,
        "target_rss_bytes": None,
        "rss_growth": None,
        "cpu_percent_before_knee": None,
        "capacity_per_vcpu": None,
        "capacity_per_vcpu_unit": f"{unit} per vCPU",
        "harness_warning": None,
    }
    if points.empty:
        out["text"] = "no curve points to look at"
        return out
    if res is None:
        out["text"] = "target not sampled (no resources.parquet)"
        return out
    s = index.series_of(series)
    if knee.reached and knee.first_fail_point is not None:
        row = knee.first_fail_point
    else:
        row = int(np.nanargmax(points["offered_rps"].to_numpy(dtype=float)))

    def at(values: np.ndarray, point_row: int) -> float:
        windows = curves.membership[s] == points["pid"].iloc[point_row]
        picked = values[windows]
        return float(np.nanmean(picked)) if np.isfinite(picked).any() else math.nan

    cpu = at(res.target_cpu, row)
    rss = at(res.target_rss, row)
    procs = at(res.target_processes, row)
    busiest = at(res.target_busiest, row)
    base_rss = at(res.target_rss, 0)
    cores = res.cpu_count
    if knee.last_pass_point is not None:
        out["cpu_percent_before_knee"] = finite_or_none(at(res.target_cpu, knee.last_pass_point))
    out.update(
        target_cpu_percent=finite_or_none(cpu),
        target_cpu_count=cores,
        target_rss_bytes=finite_or_none(rss),
    )
    growth = rss / base_rss if base_rss and math.isfinite(base_rss) and base_rss > 0 else math.nan
    out["rss_growth"] = finite_or_none(growth)
    if cores and knee.capacity is not None:
        out["capacity_per_vcpu"] = knee.capacity / cores

    where = "at the knee" if knee.reached else "at the peak load (no knee)"
    if not math.isfinite(cpu):
        out["kind"] = "unknown"
        out["text"] = "target not sampled (no resource samples with source 'target' " + where + ")"
    elif cores and cpu >= CPU_BUSY_SHARE * 100 * cores:
        out["kind"] = "cpu"
        out["text"] = f"CPU-bound: {cpu:.0f}% of {cores} {_cores(cores)}"
    elif cores and math.isfinite(busiest) and CPU_BUSY_SHARE * 100 <= busiest <= ONE_CORE_MAX:
        # one process at one full core while cores are left: a worker (its GIL) is the limit;
        # a process using more than one core is no single-core bottleneck
        out["kind"] = "cpu_per_process"
        out["text"] = (
            f"CPU-bound per process: the busiest target process at {busiest:.0f}% of one "
            f"core, {cpu:.0f}% in all on {cores} {_cores(cores)} (more workers may help)"
        )
    elif (
        cores
        and not math.isfinite(busiest)  # runs recorded before the busiest process was
        and math.isfinite(procs)
        and 1 <= round(procs) < cores
        and cpu >= CPU_BUSY_SHARE * 100 * round(procs)
    ):
        p = round(procs)
        out["kind"] = "cpu_per_process"
        out["text"] = (
            f"CPU-bound per process: {cpu:.0f}% across {p} process{'es' if p > 1 else ''} "
            f"on {cores} {_cores(cores)} (more workers may help)"
        )
    elif math.isfinite(growth) and growth >= MEMORY_GROWTH:
        out["kind"] = "memory"
        out["text"] = (
            f"memory growth: target RSS grew {growth:.1f}x ({_mb(base_rss)} -> {_mb(rss)}) {where}"
        )
    else:
        out["kind"] = "none"
        of = f" of {cores} {_cores(cores)}" if cores else ""
        out["text"] = (
            f"none visible: target CPU {cpu:.0f}%{of}, RSS {_mb(rss)} {where}; "
            "the limit is elsewhere (locks, pools, database, rate limits)"
        )
    if not knee.reached and out["kind"] in ("cpu", "cpu_per_process", "memory"):
        # the step itself stayed healthy: say what the target looked like, not that it failed
        out["text"] = f"no knee; at this step's peak load the target was {out['text']}"
    out["harness_warning"] = warning_text(
        knee, at(res.harness_cpu, row), at(res.harness_lag_ms, row)
    )
    return out


def _cores(n: int) -> str:
    return "core" if n == 1 else "cores"


def _mb(x: float) -> str:
    return f"{x / 1e6:,.0f} MB" if math.isfinite(x) else "unknown"
