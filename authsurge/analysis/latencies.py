"""Exact latency percentiles for any grouping of (series, completion window), and the
digest's latency sample, computed by the engine from the shards.

Latencies are resolved to 0.1 us (windows.LATENCY_QUANTUM_MS), rounded half to even as
numpy's rint does, and percentiles interpolate linearly between order statistics, as
numpy's default. Exact, in the engine's bounded memory: on 100M records the whole
analysis peaks under 4 GiB (bench/bench_analysis.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from authsurge.analysis.engine import Connection
from authsurge.analysis.record_views import POSITION_BITS
from authsurge.analysis.windows import LATENCY_QUANTUM_MS, QUANTILES

_Q = repr(LATENCY_QUANTUM_MS)
LATENCY_VIEW = f"""
    CREATE TEMP VIEW latencies AS
    SELECT s, end_w, (CASE WHEN latency_ms / {_Q} - floor(latency_ms / {_Q}) = 0.5
                                AND floor(latency_ms / {_Q}) % 2 = 0
                           THEN floor(latency_ms / {_Q})
                           ELSE round(latency_ms / {_Q}) END) * {_Q} AS lat,
           latency_ms, file_index, file_row_number
    FROM indexed WHERE isfinite(latency_ms)
"""
# a row's seeded hash: which rows the sample keeps (the smallest, the same every time)
_HASH = "hash(file_index, file_row_number, {seed})"
_POSITION = f"(file_index::BIGINT << {POSITION_BITS}) | file_row_number"  # place in the shards


@dataclass(frozen=True)
class SampleCandidates:
    """The rows below their window's hash threshold, gathered while another pass read the
    latencies (a pass of its own costs 9 s at 100 M records): every row `_sample` would
    sort, for the windows marked in `gathered`."""

    cap: int
    seed: int
    gathered: np.ndarray  # bool [n_series, n_windows]
    s: np.ndarray
    w: np.ndarray
    h: np.ndarray  # the seeded hash
    position: np.ndarray  # the row's place in the shards
    ms: np.ndarray

    def pick(self, windows: dict[int, np.ndarray]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """As `_sample`: per window the `cap` rows of smallest hash, in shard order."""
        out = {}
        for s, ws in windows.items():
            mine = np.flatnonzero((self.s == s) & np.isin(self.w, ws))
            by_hash = mine[np.lexsort((self.h[mine], self.w[mine]))]
            w = self.w[by_hash]
            starts = np.searchsorted(w, w, side="left")
            kept = by_hash[np.arange(len(w)) - starts < self.cap]
            kept = kept[np.lexsort((self.position[kept], self.w[kept]))]
            out[s] = (self.w[kept], self.ms[kept])
        return out


def latency_quantiles(
    con: Connection,
    group_of: np.ndarray,
    n_groups: int,
    quantiles: tuple[float, ...] = QUANTILES,
    gather: tuple[np.ndarray, int, int, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, SampleCandidates | None]:
    """`group_of[s, w]` is the group of the records of series s completing in window w (-1:
    none). Returns (counts[n_groups], values[n_groups, len(quantiles) + 1], candidates):
    the quantiles, then the max, NaN for empty groups; with `gather` = (windows [bool
    n_series x n_windows, only grouped ones count], cap, seed, latencies_in), the same pass
    gathers the sample's candidates in those windows (see latency_sample)."""
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
        return counts, out, None
    candidates = ""
    if gather is not None:
        wanted, cap, seed, latencies_in = gather
        below = _thresholds(latencies_in[s_idx, w_idx], cap)
        # a window not gathered keeps nothing (h <= NULL is never true)
        groups["below"] = pd.array(below, dtype="UInt64")
        groups.loc[~wanted[s_idx, w_idx], "below"] = pd.NA
        candidates = f""", list({{'s': s, 'w': end_w, 'h': h, 'p': {_POSITION}, 'ms': latency_ms}})
                        FILTER (WHERE h <= below) AS candidates"""
    con.register("group_map", groups)
    try:
        table = con.arrow(f"""
            SELECT g, count(*) AS n, quantile_cont(lat, {list(quantiles)}) AS q, max(lat) AS mx
                   {candidates}
            FROM (SELECT *{f", {_HASH.format(seed=int(gather[2]))} AS h" if gather else ""}
                  FROM latencies JOIN group_map USING (s, end_w))
            GROUP BY g
        """)
    finally:
        con.unregister("group_map")
    g = table["g"].to_numpy()
    counts[g] = table["n"].to_numpy()
    out[g, :-1] = np.array(table["q"].to_pylist(), dtype=np.float64).reshape(len(g), -1)
    out[g, -1] = table["mx"].to_numpy()
    if gather is None:
        return counts, out, None
    rows = pc.list_flatten(table["candidates"])
    column = {
        name: rows.combine_chunks().field(name).to_numpy(zero_copy_only=False)
        for name in ("s", "w", "h", "p", "ms")
    }
    return (
        counts,
        out,
        SampleCandidates(
            gather[1],
            gather[2],
            np.asarray(gather[0], bool) & (group_of >= 0),
            column["s"].astype(np.int64),
            column["w"].astype(np.int64),
            column["h"].astype(np.uint64),
            column["p"].astype(np.int64),
            column["ms"].astype(np.float64),
        ),
    )


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
    con: Connection,
    windows: dict[int, np.ndarray],
    cap: int,
    seed: int,
    latencies_in: np.ndarray,
    candidates: SampleCandidates | None = None,
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """For each series s in `windows`: the raw latencies of s completing in windows[s], at
    most `cap` per window: those with the smallest seeded hash of their place in the shards
    (deterministic). Returns {s: (window, latency_ms)} in window order, then shard order.

    `latencies_in[s, w]` (how many latencies each window holds) lets one pass keep only
    the rows whose hash is below a per-window threshold set for about cap + 10 sqrt(cap)
    survivors, so only those are sorted; a window left with fewer than its share (a
    chance far below one in a million) is sampled again in full. Windows whose rows
    `candidates` gathered (with the same cap and seed) are picked from them, without a
    pass."""
    windows = {s: np.asarray(ws, np.int64) for s, ws in windows.items()}
    if candidates is not None and (candidates.cap, candidates.seed) == (cap, seed):
        chosen = candidates.pick({s: ws[candidates.gathered[s, ws]] for s, ws in windows.items()})
        rest = {s: ws[~candidates.gathered[s, ws]] for s, ws in windows.items()}
        if any(len(ws) for ws in rest.values()):
            chosen = _merged(chosen, _sample(con, _nonempty(rest), cap, seed, latencies_in, False))
    else:
        chosen = _sample(con, windows, cap, seed, latencies_in, full=False)
    short = {}
    for s, ws in windows.items():
        got = np.bincount(chosen[s][0], minlength=latencies_in.shape[1])[ws]
        short[s] = ws[got < np.minimum(cap, latencies_in[s, ws])]
    if any(len(ws) for ws in short.values()):
        kept = {}
        for s, (w, ms) in chosen.items():
            keep = ~np.isin(w, short[s])
            kept[s] = (w[keep], ms[keep])
        chosen = _merged(kept, _sample(con, _nonempty(short), cap, seed, latencies_in, full=True))
    return chosen


def _nonempty(windows: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
    return {s: ws for s, ws in windows.items() if len(ws)}


def _merged(
    a: dict[int, tuple[np.ndarray, np.ndarray]], b: dict[int, tuple[np.ndarray, np.ndarray]]
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Two samples of different windows as one, in window order (each window's rows keep
    their shard order)."""
    out = dict(a)
    for s, (w_b, ms_b) in b.items():
        w_a, ms_a = out.get(s, (np.zeros(0, np.int64), np.zeros(0)))
        w_all, ms_all = np.concatenate([w_a, w_b]), np.concatenate([ms_a, ms_b])
        order = np.argsort(w_all, kind="stable")
        out[s] = (w_all[order], ms_all[order])
    return out


def _thresholds(n: np.ndarray, cap: int) -> np.ndarray:
    """Per window of n latencies: the hash at or below which about cap + 10 sqrt(cap) of
    them fall (hashes are uniform over UBIGINT: a threshold of share * 2^64 keeps that
    share); every row when there are not that many."""
    share = np.minimum(1.0, (cap + 10 * np.sqrt(cap)) / np.maximum(np.asarray(n, np.float64), 1))
    threshold = np.full(len(share), np.iinfo(np.uint64).max, np.uint64)
    below = share < 1.0
    threshold[below] = (share[below] * 2.0**64).astype(np.uint64)
    return threshold


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
    threshold = _thresholds(latencies_in[s_col, w_col], cap)
    if full:
        threshold[:] = np.iinfo(np.uint64).max
    con.register("sample_windows", pd.DataFrame({"s": s_col, "end_w": w_col, "below": threshold}))
    try:
        rows = con.execute(f"""
            SELECT s, end_w, latency_ms FROM (
                SELECT s, end_w, latency_ms, file_index, file_row_number,
                       row_number() OVER (PARTITION BY s, end_w ORDER BY h) AS r
                FROM (SELECT *, {_HASH.format(seed=int(seed))} AS h
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
