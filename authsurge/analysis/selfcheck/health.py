"""How the load generator fared over the whole run: the ``harness`` section of analysis.json.

CPU and loop lag are the peaks of the harness's own samples (resources.parquet, sources
``harness:*``); the mean CPU per worker comes from meta.json's CPU seconds over the run's
duration; planned, started and dropped journeys and the shortfall windows are the
driver's own bookkeeping, from meta.json.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from authsurge.analysis.knee import finite_or_none


def harness_health(meta: dict[str, Any], resources: pd.DataFrame | None) -> dict[str, Any]:
    traffic = meta.get("traffic") or {}
    harness = meta.get("harness") or {}
    out: dict[str, Any] = {
        "peak_cpu_percent": None,
        "peak_loop_lag_ms": None,
        "mean_cpu_percent": {},
        "dropped_journeys": traffic.get("dropped_journeys"),
        "planned_journeys": traffic.get("planned_journeys"),
        "started_journeys": traffic.get("started_journeys"),
        "shortfall": list(traffic.get("shortfall") or []),
        "on_schedule": traffic.get("on_schedule"),
    }
    duration = meta.get("duration_s")
    for worker, cpu_s in (harness.get("worker_cpu_s") or {}).items():
        if isinstance(cpu_s, int | float) and isinstance(duration, int | float) and duration > 0:
            out["mean_cpu_percent"][worker] = 100.0 * cpu_s / duration
    if resources is not None and len(resources):
        mine = resources[resources["source"].astype(str).str.startswith("harness")]
        if len(mine):
            out["peak_cpu_percent"] = finite_or_none(mine["cpu_percent"].max())
            out["peak_loop_lag_ms"] = finite_or_none(mine["loop_lag_ms"].max())
    return out
