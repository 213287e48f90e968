"""The cost model's counts: how many requests of each step, and arrivals of each journey,
fell at or before each resource-sample edge. Exact, as numpy's searchsorted(side="right").

A request counts at its middle (start + latency / 2), an arrival at its t_start. Rather than
sort 100 M times against the edges (an ASOF join), the time axis is cut into cells narrower
than half the smallest gap between edges, so a cell holds at most one edge. One hash
aggregate then counts the rows per (series, cell) and, in a cell with an edge, how many
are at or before it: every other row's next edge follows from its cell alone, because
floor((t - origin) / width) never decreases as t grows. An infinite or NaN time lands in
the first or the past-the-end cell, as the ASOF join would place it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from authsurge.analysis.engine import Connection, sql_float
from authsurge.analysis.record_views import Shape

MAX_CELLS = 4_000_000  # beyond this (edges microseconds apart), the ASOF join is cheaper

# (key, t) per row: request steps by series number, journey arrivals by journey name
_ROWS = """
    SELECT is_arrival, CASE WHEN is_arrival THEN NULL ELSE s END AS s,
           CASE WHEN is_arrival THEN journey END AS journey,
           CASE WHEN is_arrival THEN t_start
                ELSE t_start + coalesce(CASE WHEN isnan(latency_ms) THEN 0 ELSE latency_ms END, 0)
                               / 1000.0 / 2 END AS t
    FROM indexed WHERE NOT is_arrival OR journey IS NOT NULL
"""


def counts_up_to(
    con: Connection, shape: Shape, edges: np.ndarray
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """({step: cumulative requests per edge}, {journey: cumulative arrivals per edge}) for
    `edges` sorted ascending (epoch s)."""
    edges = np.asarray(edges, dtype=np.float64)
    unique = np.unique(edges)
    if unique.size == 0:
        return {}, {}
    width = float(np.min(np.diff(unique))) / 2 if unique.size > 1 else 1.0
    origin = float(unique[0]) - width / 2
    cell_of_edge = np.floor((unique - origin) / width).astype(np.int64)
    n_cells = int(cell_of_edge[-1]) + 1
    if n_cells > MAX_CELLS or np.any(np.diff(cell_of_edge) < 1):
        per_edge = _asof(con, unique)
    else:
        per_edge = _by_cells(con, unique, origin, width, cell_of_edge, n_cells)
    # duplicate edges count the same rows: cumulative counts at the unique edge
    at = np.searchsorted(unique, edges)
    steps: dict[str, np.ndarray] = {}
    journeys: dict[str, np.ndarray] = {}
    for key, counts in per_edge.items():
        cumulative = np.cumsum(counts)[at]
        if isinstance(key, str):
            journeys[key] = cumulative
        else:
            steps[shape.series_names[key]] = cumulative
    return steps, journeys


def _by_cells(
    con: Connection,
    edges: np.ndarray,
    origin: float,
    width: float,
    cell_of_edge: np.ndarray,
    n_cells: int,
) -> dict[str | int, np.ndarray]:
    con.register("edge_cells", pd.DataFrame({"c": cell_of_edge, "e": edges}))
    try:
        frame = con.execute(f"""
            SELECT is_arrival, s, journey, c, count(*) AS n, count(*) FILTER (WHERE t <= e) AS n_le
            FROM (SELECT *, least(greatest(floor((t - {sql_float(origin)}) / {sql_float(width)}), -1), {n_cells})::BIGINT AS c
                  FROM ({_ROWS}) WHERE t IS NOT NULL)
            LEFT JOIN edge_cells USING (c)
            GROUP BY ALL
        """).df()
    finally:
        con.unregister("edge_cells")
    n_e = len(edges)
    edge_in = np.full(n_cells + 2, -1, np.int64)  # cell + 1 -> the edge in it (cell -1 first)
    edge_in[cell_of_edge + 1] = np.arange(n_e)
    # the first edge at or after any time in cell c (when c holds no edge)
    after = np.searchsorted(cell_of_edge, np.arange(-1, n_cells + 1), side="left")
    out: dict[str | int, np.ndarray] = {}
    cells = frame["c"].to_numpy(np.int64) + 1
    n, n_le = frame["n"].to_numpy(np.int64), frame["n_le"].to_numpy(np.int64)
    for row, (is_arrival, s, journey) in enumerate(
        zip(frame["is_arrival"], frame["s"], frame["journey"], strict=True)
    ):
        key = journey if is_arrival else int(s)  # a journey by name, a step by series
        counts = out.setdefault(key, np.zeros(n_e + 1, np.int64))
        j = edge_in[cells[row]]
        if j >= 0:
            counts[j] += n_le[row]
            counts[j + 1] += n[row] - n_le[row]
        else:
            counts[after[cells[row]]] += n[row]
    return {key: counts[:n_e] for key, counts in out.items()}  # past the last edge: dropped


def _asof(con: Connection, edges: np.ndarray) -> dict[str | int, np.ndarray]:
    con.register("edges", pd.DataFrame({"e": edges, "k": np.arange(len(edges), dtype=np.int64)}))
    try:
        rows = con.execute(f"""
            SELECT r.is_arrival, r.s, r.journey, e.k, count(*)
            FROM ({_ROWS}) r ASOF JOIN edges e ON r.t <= e.e GROUP BY ALL
        """).fetchall()
    finally:
        con.unregister("edges")
    out: dict[str | int, np.ndarray] = {}
    for is_arrival, s, journey, k, n in rows:
        key = journey if is_arrival else int(s)  # a journey by name, a step by series
        out.setdefault(key, np.zeros(len(edges), np.int64))[k] += n
    return out
