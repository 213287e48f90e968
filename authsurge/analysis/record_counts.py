"""Every count the stages take from the records, in two passes over the shards.

One query counts the records per (series, journey, kind, arrival window, completion
window, outcome, start edge, end edge, failure reason), and per cost-model cell when given
the cells (cost_counts.EdgeCells); five tables are summed from those groups (a second pass
counts distinct people):
- by (series, journey, kind, arrival window): offered load, journey arrivals, first
  attempts and drops, and the requests of each journey (peak demand, the cost model);
- by (series, completion window, outcome): completions, goodput, failures by class;
- by (series, window edge) twice, for start and end times: the counts and sums from which
  concurrency is exact algebra (see `concurrency`);
- by (series, reason) over failures: the commonest failure reasons.
One GROUP BY over all the keys makes few groups (a record's windows and edges are close
together) and costs one hash insert a record; GROUPING SETS, one a set, took 30% longer
at 100 M records.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from authsurge.analysis.cost_counts import ROW_TIME, TABLE, EdgeCells
from authsurge.analysis.engine import Connection
from authsurge.analysis.record_views import Shape
from authsurge.rundir import records as record

_KEYS = ["s", "journey", "kind", "arrive_w", "end_w", "outcome", "b_start", "b_end", "reason"]


@dataclass(frozen=True)
class RecordCounts:
    arrivals: pd.DataFrame  # s, journey, kind, arrive_w, n, firsts
    completions: pd.DataFrame  # s, end_w, outcome, n
    starts: pd.DataFrame  # s, b_start, n, total (sum of start_rel)
    ends: pd.DataFrame  # s, b_end, n, total (sum of end_rel)
    reasons: pd.DataFrame  # s, reason, n (failures only)
    persons: int  # distinct person_id of journey arrivals; 0 when any arrival has none
    cells: pd.DataFrame | None  # is_arrival, s, journey, c, n, n_le (EdgeCells.per_edge)


def count_records(con: Connection, shape: Shape, cells: EdgeCells | None = None) -> RecordCounts:
    n_w, w = shape.n_windows, shape.window_s
    # a time x counts for every window edge b >= x: bucket it by the first edge at or after it
    bucket = "least(greatest(ceil({c} / {w!r}), 0), {n})::BIGINT"
    keys = _KEYS + (["c"] if cells is not None else [])
    inner = f"""
        SELECT s, journey, kind, arrive_w, end_w, outcome, attempt, start_rel, end_rel,
               {bucket.format(c="start_rel", w=w, n=n_w)} AS b_start,
               {bucket.format(c="end_rel", w=w, n=n_w)} AS b_end,
               CASE WHEN outcome IS DISTINCT FROM '{record.OK}' THEN reason END AS reason
               {f", {cells.cell_sql('t')} AS c, t" if cells is not None else ""}
        FROM (SELECT *{f", {ROW_TIME} AS t" if cells is not None else ""} FROM indexed)
    """
    if cells is not None:
        inner = f"SELECT * FROM ({inner}) LEFT JOIN {TABLE} USING (c)"
        con.register(TABLE, cells.table())
    try:
        frame = con.execute(f"""
            SELECT {", ".join(keys)}, count(*) AS n,
                   count(*) FILTER (WHERE attempt <= 1) AS firsts,
                   sum(start_rel) AS start_total, sum(end_rel) AS end_total
                   {", count(*) FILTER (WHERE t <= e) AS n_le" if cells is not None else ""}
            FROM ({inner})
            GROUP BY ALL
        """).df()
    finally:
        if cells is not None:
            con.unregister(TABLE)

    def summed(columns: list[str], values: list[str]) -> pd.DataFrame:
        return frame.groupby(columns, dropna=False, sort=True)[values].sum().reset_index()

    reasons = summed(["s", "reason"], ["n"])
    no_id, persons = con.execute("""
        SELECT count(*) FILTER (WHERE person_id IS NULL OR person_id = ''), count(DISTINCT person_id)
        FROM indexed WHERE is_arrival
    """).fetchall()[0]
    return RecordCounts(
        arrivals=summed(["s", "journey", "kind", "arrive_w"], ["n", "firsts"]),
        completions=summed(["s", "end_w", "outcome"], ["n"]),
        starts=summed(["s", "b_start"], ["n", "start_total"]).rename(
            columns={"b_start": "b", "start_total": "total"}
        ),
        ends=summed(["s", "b_end"], ["n", "end_total"]).rename(
            columns={"b_end": "b", "end_total": "total"}
        ),
        reasons=reasons[reasons["reason"].notna()].reset_index(drop=True),
        persons=0 if no_id else int(persons),
        cells=None if cells is None else _cells(frame),
    )


def _cells(frame: pd.DataFrame) -> pd.DataFrame:
    """The cost model's per-cell counts, keyed as EdgeCells.per_edge reads them: requests
    by series, journey arrivals by journey; rows that do not count (ROW_TIME NULL) have
    no cell."""
    counted = frame[frame["c"].notna()]
    is_arrival = (counted["kind"] != record.KIND_REQUEST).to_numpy()
    return pd.DataFrame(
        {
            "is_arrival": is_arrival,
            "s": np.where(is_arrival, -1, counted["s"].to_numpy(np.int64)),
            "journey": np.where(is_arrival, counted["journey"].to_numpy(object), None),
            "c": counted["c"].to_numpy(np.int64),
            "n": counted["n"].to_numpy(np.int64),
            "n_le": counted["n_le"].to_numpy(np.int64),
        }
    )


def concurrency(counts: RecordCounts, shape: Shape) -> np.ndarray:
    """Time-average records in flight per (series, window), [n_series, n_windows]: for each
    window edge b, the integral up to b of (records started) - (records ended), from the
    per-edge counts and sums of their times (exact algebra; sums in the engine's order)."""
    n_s, n_w, w = len(shape.series_names), shape.n_windows, shape.window_s
    edges = np.arange(n_w + 1, dtype=np.float64) * w
    out = np.zeros((n_s, n_w))
    for table, sign in ((counts.starts, 1), (counts.ends, -1)):
        count = np.zeros((n_s, n_w + 1))
        total = np.zeros((n_s, n_w + 1))
        s, b = table["s"].to_numpy(np.int64), table["b"].to_numpy(np.int64)
        np.add.at(count, (s, b), table["n"].to_numpy(np.float64))
        np.add.at(total, (s, b), table["total"].to_numpy(np.float64))
        integral = edges * np.cumsum(count, axis=1) - np.cumsum(total, axis=1)
        out += sign * np.diff(integral, axis=1) / w
    return out
