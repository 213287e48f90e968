"""analysis.json's per-series sections from a run's RecordIndex and frames (whole-run counts, top failure
reasons, percentiles, curve points, the first collapse) and the one JSON cleaner."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from authsurge.analysis.record_index import RecordIndex
from authsurge.analysis.windows import PERCENTILE_COLUMNS
from authsurge.rundir.records import OK


def first_collapse(
    steps: dict[str, dict[str, Any]], journeys: dict[str, dict[str, Any]]
) -> dict[str, Any] | None:
    """The collapse seen at the lowest surge, over steps and journeys (None: no collapse)."""
    found = [
        {"series": name, "scope": scope, **entry["collapse"]}
        for scope, group in (("request", steps), ("journey", journeys))
        for name, entry in group.items()
        if entry.get("collapse", {}).get("collapsed")
    ]
    if not found:
        return None

    def surge(c: dict[str, Any]) -> float:
        at = c["at_arrivals"] if c["at_arrivals"] is not None else c["at_offered"]
        return float(at) if at is not None else math.inf

    return min(found, key=lambda c: (surge(c), c["scope"] != "journey"))


def series_summaries(index: RecordIndex) -> dict[str, dict[str, Any]]:
    """Whole-run counts, error classes, top failure reasons and latency percentiles per series."""
    total, ok, by_class = index.series_totals()
    pct = index.series_quantiles()
    reasons = index.top_reasons()
    out = {}
    for s, name in enumerate(index.series_names):
        errors = int(total[s] - ok[s])
        out[name] = {
            "scope": index.series_scopes[s],
            "requests": int(total[s]),
            "ok": int(ok[s]),
            "errors": errors,
            "error_rate": errors / total[s] if total[s] else None,
            "errors_by_class": {
                o: int(by_class[s, j])
                for j, o in enumerate(index.outcome_names)
                if o != OK and by_class[s, j]
            },
            "top_errors": reasons.get(s, []),
            **{col: pct[s, j] for j, col in enumerate(PERCENTILE_COLUMNS)},
        }
    return out


def curve_json(points: pd.DataFrame) -> list[dict[str, Any]]:
    columns = {
        "offered_rps": "offered",
        "arrivals_rps": "arrivals",
        "goodput_rps": "goodput",
        "error_rate": "error_rate",
        "p50": "p50",
        "p90": "p90",
        "p95": "p95",
        "p99": "p99",
        "max": "max",
        "concurrency": "concurrency",
        "level_rate": "level_rate",
        "windows": "windows",
        "t_first": "t_first",
        "t_last": "t_last",
    }
    frame = points[list(columns)].rename(columns=columns)
    return frame.to_dict(orient="records")


def clean(value: Any, exact: bool = False) -> Any:
    """Plain JSON types: numpy scalars to Python, NaN/inf to None, floats rounded for reading
    (unless `exact`: full precision, for golden comparisons)."""
    if isinstance(value, dict):
        return {str(k): clean(v, exact) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v, exact) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        x = float(value)
        if not math.isfinite(x):
            return None
        if exact:
            return x
        # 6 significant digits, but never round an epoch timestamp to whole seconds
        return round(x, 3) if abs(x) >= 1e6 else float(f"{x:.6g}")
    if isinstance(value, Path):
        return str(value)
    return value
