"""Every count the stages take from the records, in two passes over the shards.

One query with GROUPING SETS fills five tables (a second counts distinct people):
- by (series, journey, kind, arrival window): offered load, journey arrivals, first
  attempts and drops, and the requests of each journey (peak demand, the cost model);
- by (series, completion window, outcome): completions, goodput, failures by class;
- by (series, window edge) twice, for start and end times: the counts and sums from which
  concurrency is exact algebra (see `concurrency`);
- by (series, reason) over failures: the commonest failure reasons.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from authsurge.analysis.engine import Connection
from authsurge.analysis.record_views import Shape
from authsurge.rundir import records as record

# GROUPING(...) over the key columns below: a set's bit is 0 for each column it groups by
_KEYS = ("s", "journey", "kind", "arrive_w", "end_w", "outcome", "b_start", "b_end", "reason")


def _mask(*grouped: str) -> int:
    return sum(1 << (len(_KEYS) - 1 - i) for i, k in enumerate(_KEYS) if k not in grouped)


_ARRIVALS = _mask("s", "journey", "kind", "arrive_w")
_COMPLETIONS = _mask("s", "end_w", "outcome")
_STARTS = _mask("s", "b_start")
_ENDS = _mask("s", "b_end")
_REASONS = _mask("s", "reason")


@dataclass(frozen=True)
class RecordCounts:
    arrivals: pd.DataFrame  # s, journey, kind, arrive_w, n, firsts
    completions: pd.DataFrame  # s, end_w, outcome, n
    starts: pd.DataFrame  # s, b_start, n, total (sum of start_rel)
    ends: pd.DataFrame  # s, b_end, n, total (sum of end_rel)
    reasons: pd.DataFrame  # s, reason, n (failures only)
    persons: int  # distinct person_id of journey arrivals; 0 when any arrival has none


def count_records(con: Connection, shape: Shape) -> RecordCounts:
    n_w, w = shape.n_windows, shape.window_s
    # a time x counts for every window edge b >= x: bucket it by the first edge at or after it
    bucket = "least(greatest(ceil({c} / {w!r}), 0), {n})::BIGINT"
    frame = con.execute(f"""
        SELECT GROUPING({", ".join(_KEYS)}) AS g, {", ".join(_KEYS)}, count(*) AS n,
               count(*) FILTER (WHERE attempt <= 1) AS firsts,
               sum(start_rel) AS start_total, sum(end_rel) AS end_total
        FROM (SELECT s, journey, kind, arrive_w, end_w, outcome, attempt, start_rel, end_rel,
                     {bucket.format(c="start_rel", w=w, n=n_w)} AS b_start,
                     {bucket.format(c="end_rel", w=w, n=n_w)} AS b_end,
                     CASE WHEN outcome IS DISTINCT FROM '{record.OK}' THEN reason END AS reason
              FROM indexed)
        GROUP BY GROUPING SETS ((s, journey, kind, arrive_w), (s, end_w, outcome),
                                (s, b_start), (s, b_end), (s, reason))
    """).df()

    def part(mask: int, *columns: str) -> pd.DataFrame:
        rows = frame[frame["g"] == mask]
        return rows[list(columns)].reset_index(drop=True)

    reasons = part(_REASONS, "s", "reason", "n")
    no_id, persons = con.execute("""
        SELECT count(*) FILTER (WHERE person_id IS NULL OR person_id = ''), count(DISTINCT person_id)
        FROM indexed WHERE is_arrival
    """).fetchall()[0]
    return RecordCounts(
        arrivals=part(_ARRIVALS, "s", "journey", "kind", "arrive_w", "n", "firsts"),
        completions=part(_COMPLETIONS, "s", "end_w", "outcome", "n"),
        starts=part(_STARTS, "s", "b_start", "n", "start_total").rename(
            columns={"b_start": "b", "start_total": "total"}
        ),
        ends=part(_ENDS, "s", "b_end", "n", "end_total").rename(
            columns={"b_end": "b", "end_total": "total"}
        ),
        reasons=reasons[reasons["reason"].notna()].reset_index(drop=True),
        persons=0 if no_id else int(persons),
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
