"""Capacity curves resampled window by window, for bootstrap intervals of a knee.

Each curve point pools a set of windows (its stratum); a resample draws that many windows
from the stratum, with replacement, and rebuilds the point from their counts. The knee
intervals of the ranking (authsurge.analysis.ranking) and the knee comparison of
authsurge.analysis.compare both build their resampled curves here and judge them with the
one find_knee, so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from authsurge.analysis.knee import CurvePoints
from authsurge.analysis.record_index import RecordIndex
from authsurge.analysis.windows import series_rows

LATENCY_COLUMNS = ("p50", "p90", "p95", "p99", "max")


@dataclass(frozen=True)
class WindowCounts:
    """One step's counts per analysis window."""

    offered: np.ndarray
    ok: np.ndarray
    completed: np.ndarray
    arrivals_rps: np.ndarray
    concurrency: np.ndarray
    window_s: float

    @classmethod
    def of_series(cls, windows: pd.DataFrame, index: RecordIndex, series: str) -> WindowCounts:
        rows = series_rows(windows, index, series)

        def column(name: str) -> np.ndarray:
            return rows[name].to_numpy(dtype=float)

        return cls(
            column("offered"),
            column("ok"),
            column("completed"),
            column("arrivals_rps"),
            column("concurrency"),
            index.window_s,
        )


def resampled_curves(
    counts: WindowCounts,
    strata: list[np.ndarray],
    draws: list[np.ndarray],
    latency: dict[str, np.ndarray],
) -> list[CurvePoints]:
    """One curve per resample: draws[p] is [batch, len(strata[p])] positions in strata[p];
    latency holds each LATENCY_COLUMNS metric as [batch, points] (resampled by the caller)
    or [points] (held at the point's value)."""
    batch = np.atleast_2d(draws[0]).shape[0]
    n_p = len(strata)
    offered, goodput, arrivals, errors, completed, concurrency = (
        np.empty((batch, n_p)) for _ in range(6)
    )
    seconds = np.empty(n_p)
    for p, (windows, d) in enumerate(zip(strata, draws, strict=True)):
        w = windows[np.atleast_2d(d)]  # [batch, k]: window ids drawn for this point
        seconds[p] = w.shape[1] * counts.window_s
        offered[:, p] = counts.offered[w].sum(axis=1) / seconds[p]
        ok = counts.ok[w].sum(axis=1)
        goodput[:, p] = ok / seconds[p]
        arrivals[:, p] = counts.arrivals_rps[w].mean(axis=1)
        concurrency[:, p] = counts.concurrency[w].mean(axis=1)
        done = counts.completed[w].sum(axis=1)
        completed[:, p] = done
        with np.errstate(invalid="ignore", divide="ignore"):
            errors[:, p] = np.where(done > 0, (done - ok) / done, np.nan)
    lat = {m: np.broadcast_to(v, (batch, n_p)) for m, v in latency.items()}
    return [
        CurvePoints(
            offered[b],
            arrivals[b],
            goodput[b],
            {
                "error_rate": errors[b],
                "concurrency": concurrency[b],
                **{m: v[b] for m, v in lat.items()},
            },
            completed[b],
            seconds,
        )
        for b in range(batch)
    ]
