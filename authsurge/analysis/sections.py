"""analysis.json's per-series sections from a run's frames (whole-run counts, top failure
reasons, percentiles, curve points, the first collapse) and the one JSON cleaner."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from authsurge.analysis.windows import PERCENTILE_COLUMNS, RecordIndex, grouped_quantiles
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


def series_summaries(requests: pd.DataFrame, index: RecordIndex) -> dict[str, dict[str, Any]]:
    """Whole-run counts, error classes, top failure reasons and latency percentiles per series."""
    n_s = index.n_series
    valid = index.series >= 0
    series = index.series[valid].astype(np.int64)
    total = np.bincount(series, minlength=n_s)
    ok = np.bincount(series, weights=index.ok[valid], minlength=n_s).astype(np.int64)
    n_o = len(index.outcome_names)
    by_class = np.bincount(series * n_o + index.outcome[valid], minlength=n_s * n_o).reshape(
        n_s, n_o
    )
    _, pct = grouped_quantiles(
        index, np.where(index.series >= 0, index.series, -1).astype(np.int64), n_s
    )
    reasons = _top_reasons(requests, index)
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


def _top_reasons(
    requests: pd.DataFrame, index: RecordIndex, top: int = 3
) -> dict[int, list[dict[str, Any]]]:
    if "reason" not in requests:
        return {}
    reason = requests["reason"].astype("category")
    failed = (~index.ok) & (index.series >= 0) & (reason.cat.codes.to_numpy() >= 0)
    if not failed.any():
        return {}
    codes = reason.cat.codes.to_numpy()[failed].astype(np.int64)
    n_r = len(reason.cat.categories)
    series = index.series[failed].astype(np.int64)
    counts = np.bincount(series * n_r + codes, minlength=index.n_series * n_r)
    counts = counts.reshape(index.n_series, n_r)
    out: dict[int, list[dict[str, Any]]] = {}
    names = [str(c) for c in reason.cat.categories]
    for s in range(index.n_series):  # series: a handful
        best = np.argsort(counts[s])[::-1][:top]
        out[s] = [
            {"reason": names[r] or "(no reason given)", "count": int(counts[s, r])}
            for r in best
            if counts[s, r] > 0
        ]
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
