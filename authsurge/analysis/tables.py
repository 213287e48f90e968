"""A run's capacity curves as one table, from its analysis.json: one row per curve point of
every step and journey, with the knee beside it (for notebooks, spreadsheets and
``analysis/curves_table.py``)."""

from __future__ import annotations

from typing import Any

import pandas as pd

COLUMNS = (
    "series",
    "scope",
    "offered",
    "arrivals",
    "goodput",
    "error_rate",
    "p50",
    "p95",
    "p99",
    "concurrency",
    "windows",
    "past_knee",
)


def curves_table(doc: dict[str, Any]) -> pd.DataFrame:
    """Curve points in ascending offered load per series; past_knee marks the points at or
    beyond the series' knee (False everywhere when it reached none)."""
    rows = []
    for section in ("steps", "journeys"):
        for name, entry in doc[section].items():
            knee = entry["knee"]
            for point in sorted(entry["curve"], key=lambda p: p["offered"] or 0.0):
                row = {"series": name, "scope": entry["scope"]}
                row.update({c: point.get(c) for c in COLUMNS[2:-1]})
                row["past_knee"] = bool(
                    knee["reached"]
                    and point["offered"] is not None
                    and point["offered"] >= knee["offered"]
                )
                rows.append(row)
    return pd.DataFrame(rows, columns=list(COLUMNS))
