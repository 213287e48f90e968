"""The cost model's counts: how many requests of each step, and arrivals of each journey,
fell at or before each resource-sample edge. Exact, as numpy's searchsorted(side="right").

A request counts at its middle (start + latency / 2), an arrival at its t_start. Rather than
sort 100 M times against the edges (an ASOF join), the time axis is cut into cells narrower
than half the smallest gap between edges, so a cell holds at most one edge. One hash
aggregate then counts the rows per (series, cell) and, in a cell with an edge, how many
are at or before it: every other row's next edge follows from its cell alone, because
floor((t - origin) / width) never decreases as t grows. An infinite or NaN time lands in
the first or the past-the-end cell, as the ASOF join would place it.

The cells are counted in record_counts' pass when the index is opened with the edges (a
pass of its own costs 9 s at 100 M records), or here in a pass of their own; either way a
row counts as ROW_TIME says.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from authsurge.analysis.engine import Connection, sql_float
from authsurge.analysis.record_views import Shape

MAX_CELLS = 4_000_000  # beyond this (edges microseconds apart), the ASOF join is cheaper
TABLE = "edge_cells"  # the name EdgeCells.table() is registered under

# when a row of `indexed` counts: requests at their middle, journey arrivals (with a journey
# name) at their start; NULL for a row that does not count
ROW_TIME = """
    CASE WHEN NOT is_arrival OR journey IS NOT NULL THEN
        CASE WHEN is_arrival THEN t_start
             ELSE t_start + coalesce(CASE WHEN isnan(latency_ms) THEN 0 ELSE latency_ms END, 0)
                            / 1000.0 / 2 END END
"""


@dataclass(frozen=True)
class EdgeCells:
    """The time axis cut into cells of `width` from `origin`, at most one edge in each."""

    edges: np.ndarray  # unique, ascending (epoch s)
    origin: float
    width: float
    cell_of_edge: np.ndarray
    n_cells: int

    @staticmethod
    def of(edges: np.ndarray) -> EdgeCells | None:
        """The cells for these edges; None when there are none or cells cannot part them
        cheaply (the ASOF join then counts)."""
        unique = np.unique(np.asarray(edges, dtype=np.float64))
        if unique.size == 0:
            return None
        width = float(np.min(np.diff(unique))) / 2 if unique.size > 1 else 1.0
        origin = float(unique[0]) - width / 2
        cell_of_edge = np.floor((unique - origin) / width).astype(np.int64)
        n_cells = int(cell_of_edge[-1]) + 1
        if n_cells > MAX_CELLS or np.any(np.diff(cell_of_edge) < 1):
            return None
        return EdgeCells(unique, origin, width, cell_of_edge, n_cells)

    def cell_sql(self, t: str) -> str:
        """The cell of time `t` (-1 before the first, n_cells past the last; NULL when `t`
        is: greatest() would skip a NULL and place the row in cell -1)."""
        return (
            f"CASE WHEN {t} IS NOT NULL THEN least(greatest(floor(({t} - "
            f"{sql_float(self.origin)}) / {sql_float(self.width)}), -1), {self.n_cells})::BIGINT END"
        )

    def table(self) -> pd.DataFrame:
        """The cells that hold an edge, and the edge (columns c, e): register it as
        TABLE and LEFT JOIN it on c, then count `t <= e`. A join on this small table costs
        the same at any number of cells; a constant list indexed by cell was rebuilt for
        every chunk of rows, 1.4 s a million rows at 200,000 cells."""
        return pd.DataFrame({"c": self.cell_of_edge, "e": self.edges})

    def per_edge(self, frame: pd.DataFrame) -> dict[str | int, np.ndarray]:
        """Rows per edge interval (.., edge] for each key, from per-cell counts: columns
        is_arrival, s, journey, c, n, n_le."""
        n_e = len(self.edges)
        edge_in = np.full(self.n_cells + 2, -1, np.int64)  # cell + 1 -> its edge (cell -1 first)
        edge_in[self.cell_of_edge + 1] = np.arange(n_e)
        # the first edge at or after any time in cell c (when c holds no edge)
        after = np.searchsorted(self.cell_of_edge, np.arange(-1, self.n_cells + 1), side="left")
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


def counts_up_to(
    con: Connection,
    shape: Shape,
    edges: np.ndarray,
    counted: tuple[EdgeCells, pd.DataFrame] | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """({step: cumulative requests per edge}, {journey: cumulative arrivals per edge}) for
    `edges` sorted ascending (epoch s). `counted`: cells already counted (with the cells'
    columns of EdgeCells.per_edge), used when they are these edges' cells."""
    edges = np.asarray(edges, dtype=np.float64)
    unique = np.unique(edges)
    if unique.size == 0:
        return {}, {}
    cells = EdgeCells.of(unique)
    if cells is None:
        per_edge = _asof(con, unique)
    elif counted is not None and np.array_equal(counted[0].edges, unique):
        per_edge = cells.per_edge(counted[1])
    else:
        per_edge = cells.per_edge(_cell_counts(con, cells))
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


# (key, t) per counted row: request steps by series number, journey arrivals by journey name
_ROWS = f"""
    SELECT is_arrival, CASE WHEN NOT is_arrival THEN s END AS s,
           CASE WHEN is_arrival THEN journey END AS journey, {ROW_TIME} AS t
    FROM indexed
"""


def _cell_counts(con: Connection, cells: EdgeCells) -> pd.DataFrame:
    con.register(TABLE, cells.table())
    try:
        return con.execute(f"""
            SELECT is_arrival, s, journey, c, count(*) AS n, count(*) FILTER (WHERE t <= e) AS n_le
            FROM (SELECT *, {cells.cell_sql("t")} AS c FROM ({_ROWS}) WHERE t IS NOT NULL)
            LEFT JOIN {TABLE} USING (c)
            GROUP BY ALL
        """).df()
    finally:
        con.unregister(TABLE)


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
