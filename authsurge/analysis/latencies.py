"""Exact latency percentiles for any grouping of (series, completion window), and the
digest's latency sample, computed by the engine from the shards.

Latencies are resolved to 0.1 us (windows.LATENCY_QUANTUM_MS), rounded half to even as
numpy's rint does, and percentiles interpolate linearly between order statistics, as
numpy's default. Exact, in the engine's bounded memory: on 100M records the whole
analysis peaks under 4 GiB (bench/bench_analysis.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from authsurge.analysis.engine import Connection
from authsurge.analysis.windows import LATENCY_QUANTUM_MS, QUANTILES

_Q = repr(LATENCY_QUANTUM_MS)
LATENCY_VIEW = f"""
    CREATE TEMP VIEW latencies AS
    SELECT s, end_w, (CASE WHEN latency_ms / {_Q} - floor(latency_ms / {_Q}) = 0.5
                                AND floor(latency_ms / {_Q}) % 2 = 0
                           THEN floor(latency_ms / {_Q})
                           ELSE round(latency_ms / {_Q}) END) * {_Q} AS lat
    FROM indexed WHERE isfinite(latency_ms)
"""


def latency_quantiles(
    con: Connection, group_of: np.ndarray, n_groups: int, quantiles: tuple[float, ...] = QUANTILES
) -> tuple[np.ndarray, np.ndarray]:
    """`group_of[s, w]` is the group of the records of series s completing in window w (-1:
    none). Returns (counts[n_groups], values[n_groups, len(quantiles) + 1]): the quantiles,
    then the max; NaN for empty groups."""
    s_idx, w_idx = np.nonzero(group_of >= 0)
    groups = pd.DataFrame(
        {
            "s": s_idx.astype(np.int64),
            "end_w": w_idx.astype(np.int64),
            "g": group_of[s_idx, w_idx].astype(np.int64),
        }
    )
    counts = np.zeros(n_groups, np.int64)
    out = np.full((n_groups, len(quantiles) + 1), np.nan)
    if groups.empty:
        return counts, out
    con.register("group_map", groups)
    try:
        for g, n, values, mx in con.execute(f"""
            SELECT g, count(*), quantile_cont(lat, {list(quantiles)}), max(lat)
            FROM latencies JOIN group_map USING (s, end_w) GROUP BY g
        """).fetchall():
            counts[g] = n
            out[g, :-1] = values
            out[g, -1] = mx
    finally:
        con.unregister("group_map")
    return counts, out


def window_and_series_quantiles(
    con: Connection, n_series: int, n_windows: int, quantiles: tuple[float, ...] = QUANTILES
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """In one pass: the quantiles and max of every (series, completion window)
    [n_series * n_windows, series-major], of every series over the whole run [n_series],
    and how many latencies each window holds [n_series, n_windows]."""
    windows = np.full((n_series * n_windows, len(quantiles) + 1), np.nan)
    series = np.full((n_series, len(quantiles) + 1), np.nan)
    counts = np.zeros((n_series, n_windows), np.int64)
    for s, end_w, n, values, mx in con.execute(f"""
        SELECT s, end_w, count(*), quantile_cont(lat, {list(quantiles)}), max(lat)
        FROM latencies GROUP BY GROUPING SETS ((s, end_w), (s))
    """).fetchall():
        if end_w is None:
            row = series[s]
        else:
            row = windows[s * n_windows + end_w]
            counts[s, end_w] = n
        row[:-1] = values
        row[-1] = mx
    return windows, series, counts


def latency_sample(
    con: Connection, windows: dict[int, np.ndarray], cap: int, seed: int, latencies_in: np.ndarray
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """For each series s in `windows`: the raw latencies of s completing in windows[s], at
    most `cap` per window: those with the smallest seeded hash of their place in the shards
    (deterministic). Returns {s: (window, latency_ms)} in window order, then shard order.

    `latencies_in[s, w]` (how many latencies each window holds) lets one pass keep only
    the rows whose hash is below a per-window threshold set for about cap + 10 sqrt(cap)
    survivors, so only those are sorted; a window left with fewer than its share (a
    chance far below one in a million) is sampled again in full."""
    chosen = _sample(con, windows, cap, seed, latencies_in, full=False)
    short = {}
    for s, ws in windows.items():
        ws = np.asarray(ws, np.int64)
        got = np.bincount(chosen[s][0], minlength=latencies_in.shape[1])[ws]
        short[s] = ws[got < np.minimum(cap, latencies_in[s, ws])]
    if any(len(ws) for ws in short.values()):
        again = _sample(
            con, {s: ws for s, ws in short.items() if len(ws)}, cap, seed, latencies_in, full=True
        )
        for s, (w_again, ms_again) in again.items():
            keep = ~np.isin(chosen[s][0], short[s])
            w_all = np.concatenate([chosen[s][0][keep], w_again])
            ms_all = np.concatenate([chosen[s][1][keep], ms_again])
            order = np.argsort(w_all, kind="stable")  # shard order within a window is kept
            chosen[s] = (w_all[order], ms_all[order])
    return chosen


def _sample(
    con: Connection,
    windows: dict[int, np.ndarray],
    cap: int,
    seed: int,
    latencies_in: np.ndarray,
    full: bool,
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    s_col = np.concatenate(
        [np.full(len(w), s, np.int64) for s, w in windows.items()] or [np.zeros(0, np.int64)]
    )
    w_col = np.concatenate(
        [np.asarray(w, np.int64) for w in windows.values()] or [np.zeros(0, np.int64)]
    )
    n = latencies_in[s_col, w_col].astype(np.float64)
    share = np.minimum(1.0, (cap + 10 * np.sqrt(cap)) / np.maximum(n, 1))
    # hashes are uniform over UBIGINT: a threshold of share * 2^64 keeps that share
    threshold = np.full(len(n), np.iinfo(np.uint64).max, np.uint64)
    below = (share < 1.0) & (not full)
    threshold[below] = (share[below] * 2.0**64).astype(np.uint64)
    con.register("sample_windows", pd.DataFrame({"s": s_col, "end_w": w_col, "below": threshold}))
    try:
        rows = con.execute(f"""
            SELECT s, end_w, latency_ms FROM (
                SELECT s, end_w, latency_ms, file_index, file_row_number,
                       row_number() OVER (PARTITION BY s, end_w ORDER BY h) AS r
                FROM (SELECT *, hash(file_index, file_row_number, {int(seed)}) AS h
                      FROM indexed JOIN sample_windows USING (s, end_w)
                      WHERE isfinite(latency_ms))
                WHERE h <= below)
            WHERE r <= {int(cap)} ORDER BY s, end_w, file_index, file_row_number
        """).fetchnumpy()
    finally:
        con.unregister("sample_windows")
    series = np.asarray(rows["s"], np.int64)
    return {
        s: (
            np.asarray(rows["end_w"], np.int64)[series == s],
            np.asarray(rows["latency_ms"], np.float64)[series == s],
        )
        for s in windows
    }
