"""The records of a run as DuckDB views over its shards, and the run's shape (series,
windows, outcome and journey names) read from them in two passes.

The rules are the window table's (windows.py), written as SQL:
- a record's arrival is t_intended for journey and dropped rows (when finite), else t_start;
  its end is arrival + latency (arrival when there is no latency); its start is t_start
  (arrival when missing), never after its end;
- implausible records (far outside the run, latency beyond an hour, negative) are left out;
- series: request steps by name, journeys by name (``journey:<name>`` when a step has the
  same name), ordered by first arrival, then by the step's first appearance in the shards;
- windows from t0 (the run start, moved back by whole windows if records precede it).

Views, each on the one before: ``raw`` (the shards' columns, with each row's place in
them) -> ``timed`` (arrival, end, start) -> ``valid`` -> ``indexed`` (series number,
windows, times relative to t0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from authsurge.analysis.engine import Connection, connect, sql_float, sql_paths
from authsurge.analysis.windows import (
    MAX_EARLY_S,
    MAX_LATE_S,
    MAX_LATENCY_S,
    MAX_RUN_S,
    SCOPE_JOURNEY,
    SCOPE_REQUEST,
)
from authsurge.rundir import records as record

_KINDS = f"('{record.KIND_REQUEST}', '{record.KIND_JOURNEY}', '{record.KIND_DROPPED}')"


def _unbounded(column: str) -> str:
    """The column's values, hidden from DuckDB's statistics propagation (nextafter(x, x)
    is x). A damaged shard can hold values its Parquet footer's statistics deny (a flipped
    byte made a latency of 2e242 ms in a page whose footer says at most 900); DuckDB would
    prove "latency within an hour" from the footer, skip the check, and the garbage would
    reach the window numbering. Turning the optimizer off instead cost 8 s at 100M."""
    return f"nextafter({column}, {column}) AS {column}"


@dataclass(frozen=True)
class Shape:
    """What the stages need to know about a run's records before asking anything of them."""

    t0: float  # epoch s of window 0's start
    window_s: float
    n_windows: int
    series_names: list[str]
    series_scopes: list[str]  # SCOPE_REQUEST or SCOPE_JOURNEY
    outcome_names: list[str]  # in order of first appearance in the shards
    journey_names: list[str]  # in order of first appearance in the shards
    reason_order: dict[str, tuple[int, int]]  # reason -> (shard, row) of its first appearance
    has_source: bool = False  # the records say each request's source address (format 2)


def open_views(
    con: Connection,
    paths: list[Path],
    started_at: float,
    window_s: float,
    ended_at: float | None = None,
    warnings: list[str] | None = None,
) -> Shape:
    """Create the views on `con` and read the run's shape (two passes over the shards)."""
    files = sql_paths(paths)
    # format 1 has no cohort and source columns: every row is the surge's, from anywhere
    columns = {n for path in paths for n in pq.read_schema(path).names}
    cohort = f"coalesce(cohort, '{record.SURGE}')" if "cohort" in columns else f"'{record.SURGE}'"
    source = "coalesce(source, '')" if "source" in columns else "''"
    con.execute(f"""
        CREATE TEMP VIEW raw AS
        SELECT kind, step, outcome, reason, journey, attempt, person_id, {cohort} AS cohort,
               status, {source} AS source,
               {_unbounded("t_start")}, {_unbounded("t_intended")}, {_unbounded("latency_ms")},
               file_row_number,
               list_position({files}, filename) AS file_index,
               kind IN ('{record.KIND_JOURNEY}', '{record.KIND_DROPPED}') AS is_jr
        FROM read_parquet({files}, filename = true, file_row_number = true, union_by_name = true)
    """)
    con.execute("""
        CREATE TEMP VIEW timed AS
        SELECT *, CASE WHEN isfinite(t_start) THEN least(t_start, end_t) ELSE least(arrive, end_t) END AS start_t
        FROM (SELECT *, CASE WHEN isfinite(arrive + latency_ms / 1000.0)
                             THEN arrive + latency_ms / 1000.0 ELSE arrive END AS end_t
              FROM (SELECT *, CASE WHEN is_jr AND isfinite(t_intended) THEN t_intended
                                   ELSE t_start END AS arrive FROM raw))
    """)
    late = (
        ended_at + MAX_LATE_S
        if ended_at is not None and math.isfinite(ended_at)
        else started_at + MAX_RUN_S + MAX_LATE_S
        if math.isfinite(started_at)
        else math.inf
    )
    early = started_at - MAX_EARLY_S if math.isfinite(started_at) else -math.inf
    plausible = (
        f"end_t - arrive <= {MAX_LATENCY_S!r} AND end_t >= arrive "
        f"AND arrive >= {sql_float(early)} AND arrive <= {sql_float(late)}"
    )
    con.execute(f"""
        CREATE TEMP VIEW valid AS
        SELECT * FROM timed
        WHERE isfinite(arrive) AND step IS NOT NULL AND kind IN {_KINDS} AND {plausible}
              AND cohort <> '{record.WARMUP}'
    """)
    firsts, found, implausible = _first_pass(con, plausible)
    if implausible and warnings is not None:
        warnings.append(
            f"{implausible:,} records with timestamps or latencies far outside the run "
            "(clock or recording errors) were left out"
        )
    step_code = {s: i for i, s in enumerate(sorted(firsts["step"], key=firsts["step"].__getitem__))}
    n_steps = max(len(step_code), 1)
    request_names = {s for s, jr, *_ in found if not jr}
    # series in order of first arrival; a tie goes to the step seen first in the shards
    ranked = sorted(found, key=lambda c: (c[2], int(c[1]) * n_steps + step_code[c[0]]))
    names = [f"journey:{s}" if jr and s in request_names else s for s, jr, *_ in ranked]
    scopes = [SCOPE_JOURNEY if jr else SCOPE_REQUEST for _, jr, *_ in ranked]
    first = min((c[2] for c in found), default=started_at)
    t0 = started_at if math.isfinite(started_at) else first
    if first < t0:
        t0 -= math.ceil((t0 - first) / window_s) * window_s
    con.execute("CREATE TEMP TABLE series_map (step VARCHAR, is_jr BOOLEAN, s INTEGER)")
    if ranked:
        con.executemany(
            "INSERT INTO series_map VALUES (?, ?, ?)",
            [(s, bool(jr), i) for i, (s, jr, *_) in enumerate(ranked)],
        )
    origin = sql_float(t0)
    con.execute(f"""
        CREATE TEMP VIEW indexed AS
        SELECT m.s, v.kind, v.outcome, v.reason, nullif(v.journey, '') AS journey, v.attempt,
               v.person_id, v.t_start, v.latency_ms, v.kind <> '{record.KIND_REQUEST}' AS is_arrival,
               v.file_index, v.file_row_number,
               floor((v.arrive - {origin}) / {window_s!r})::BIGINT AS arrive_w,
               floor((v.end_t - {origin}) / {window_s!r})::BIGINT AS end_w,
               v.start_t - {origin} AS start_rel, v.end_t - {origin} AS end_rel
        FROM valid v JOIN series_map m ON v.step = m.step AND v.is_jr = m.is_jr
    """)
    # the last window any record arrives or ends in (floor is monotonic: of the maxima)
    last = max((math.floor((t - t0) / window_s) for row in found for t in row[3:]), default=0)
    order = firsts["outcome"], firsts["journey"]
    return Shape(
        float(t0),
        float(window_s),
        max(last, 0) + 1,
        names,
        scopes,
        sorted(order[0], key=order[0].__getitem__),
        sorted(order[1], key=order[1].__getitem__),
        firsts["reason"],
        "source" in columns,
    )


POSITION_BITS = 40  # a row's place in the shards as one integer: shard << 40 | row


def _first_pass(
    con: Connection, plausible: str
) -> tuple[dict[str, dict[str, tuple[int, int]]], list[tuple], int]:
    """What the views need before they can number series:
    - for each step, outcome, journey and reason: the (shard, row) where it first appears;
    - per (step, journey row or not): the first and last arrival and the last end of the
      plausible records, and how many were left out as implausible.
    Two passes: one query with both costs more than the two (the filtered aggregates of
    the second would run for every grouping set of the first)."""
    firsts: dict[str, dict[str, tuple[int, int]]] = {
        "step": {},
        "outcome": {},
        "journey": {},
        "reason": {},
    }
    mask = (1 << POSITION_BITS) - 1
    for step, outcome, journey, reason, position in con.execute(f"""
        SELECT step, outcome, journey, reason,
               min((file_index::BIGINT << {POSITION_BITS}) | file_row_number)
        FROM raw WHERE cohort <> '{record.WARMUP}' AND kind <> '{record.KIND_EVENT}'
        GROUP BY GROUPING SETS ((step), (outcome), (journey), (reason))
    """).fetchall():
        place = (int(position) >> POSITION_BITS, int(position) & mask)
        for column, value in (
            ("step", step),
            ("outcome", outcome),
            ("journey", journey),
            ("reason", reason),
        ):
            if value is not None:
                firsts[column][value] = place
    found, implausible = [], 0
    for step, is_jr, first, last_arrive, last_end, kept, left_out in con.execute(f"""
        SELECT step, is_jr,
               min(arrive) FILTER (ok), max(arrive) FILTER (ok), max(end_t) FILTER (ok),
               count(*) FILTER (ok), count(*) FILTER (NOT ok)
        FROM (SELECT step, is_jr, arrive, end_t, coalesce({plausible}, false) AS ok FROM timed
              WHERE isfinite(arrive) AND step IS NOT NULL AND kind IN {_KINDS}
                    AND cohort <> '{record.WARMUP}')
        GROUP BY step, is_jr
    """).fetchall():
        implausible += left_out
        if kept:
            found.append((step, is_jr, first, last_arrive, last_end))
    return firsts, found, implausible


_RUNS = 64  # runs of rows middle_start reads, spread evenly over the shards by their rows
_RUN_ROWS = 8192


def middle_start(paths: list[Path]) -> float | None:
    """The median finite t_start of _RUNS runs of _RUN_ROWS rows, one every `stride` rows
    of every shard (so each shard counts by its size; every row when the shards hold fewer
    than _RUNS x _RUN_ROWS); None without one. The middle of the run, to tell garbage times
    from the records' by hours: reading every row instead cost 2.5 s at 100 M records
    (the runs' row groups alone are read)."""
    rows = [pq.read_metadata(path).num_rows for path in paths]
    stride = max(_RUN_ROWS, -(-sum(rows) // _RUNS))
    parts = []
    for path, n in zip(paths, rows, strict=True):
        runs = " OR ".join(
            f"file_row_number BETWEEN {start} AND {start + _RUN_ROWS - 1}"
            for start in range(0, max(n, 1), stride)
        )
        parts.append(
            f"SELECT t_start FROM read_parquet({sql_paths([path])}, file_row_number = true) "
            f"WHERE ({runs}) AND isfinite(t_start)"
        )
    if not parts:
        return None
    con = connect()
    try:
        (middle,) = con.execute(
            f"SELECT median(t_start) FROM ({' UNION ALL '.join(parts)})"
        ).fetchall()[0]
    finally:
        con.close()
    return None if middle is None else float(middle)


def first_start_near(paths: list[Path], middle: float, span_s: float) -> float:
    """The earliest t_start within span_s of `middle` (one garbage timestamp must not
    stand in for the start of the run)."""
    con = connect()
    try:
        (first,) = con.execute(
            f"SELECT min(t_start) FROM {_shards(paths)} "
            f"WHERE isfinite(t_start) AND abs(t_start - {sql_float(middle)}) <= {span_s!r}"
        ).fetchall()[0]
    finally:
        con.close()
    return float(first)


def _shards(paths: list[Path]) -> str:
    return f"read_parquet({sql_paths(paths)}, union_by_name = true)"
