"""WORK IN PROGRESS (issue 15): the per-window table computed by DuckDB straight from the
run's shards, without holding a row in Python. Not wired into analyze_run yet; checked
against windows.window_table on the golden runs (tests/unit/analysis/test_scan.py).

The rules are windows.py's, written as SQL:
- a record's arrival is t_intended for journey and dropped rows (when finite), else t_start;
  its end is arrival + latency (arrival when there is no latency); its start is t_start
  (arrival when missing), never after its end;
- implausible records (far outside the run, latency beyond an hour, negative) are left out;
- series: request steps by name, journeys by name (``journey:<name>`` when a step has the
  same name), ordered by first arrival, then by the step's first appearance in the shards;
- windows from t0 (the run start, moved back by whole windows if records precede it).
"""

from __future__ import annotations

import functools
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from authsurge.analysis.windows import (
    LATENCY_QUANTUM_MS,
    MAX_EARLY_S,
    MAX_LATE_S,
    MAX_LATENCY_S,
    MAX_RUN_S,
    PERCENTILE_COLUMNS,
    QUANTILES,
    SCOPE_JOURNEY,
    SCOPE_REQUEST,
)
from authsurge.rundir import records as record

MEMORY_LIMIT = "3GB"


@dataclass
class ScanIndex:
    t0: float
    window_s: float
    n_windows: int
    series_names: list[str]
    series_scopes: list[str]
    outcome_names: list[str]
    journey_names: list[str]


def connect():  # noqa: ANN201 - duckdb is imported lazily
    """A DuckDB connection with bounded memory that spills to its own temp directory
    (DuckDB locks the directory: two connections cannot share one); close() removes it."""
    import duckdb

    spill = tempfile.mkdtemp(prefix="authsurge-duckdb-")
    con = duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "threads": 2,
                                 "temp_directory": spill, "preserve_insertion_order": False})
    return _Closing(con, spill)


class _Closing:
    """A DuckDB connection that removes its spill directory when closed."""

    def __init__(self, con, spill: str) -> None:  # noqa: ANN001
        import shutil
        import weakref

        self._con, self._spill = con, spill
        # an analysis that is never closed still leaves no spill directory behind
        weakref.finalize(self, shutil.rmtree, spill, True)

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self._con, name)

    def close(self) -> None:
        import shutil

        self._con.close()
        shutil.rmtree(self._spill, ignore_errors=True)




def open_scan(paths: list[Path], started_at: float, window_s: float,
              ended_at: float | None = None, warnings: list[str] | None = None):  # noqa: ANN201
    con = connect()
    files = [str(p) for p in paths]
    con.execute(f"""
        CREATE TEMP VIEW raw AS
        SELECT kind, step, outcome, reason, journey, attempt, person_id,
               t_start, t_intended, latency_ms, file_row_number,
               list_position({files!r}, filename) AS file_index,
               kind IN ('{record.KIND_JOURNEY}', '{record.KIND_DROPPED}') AS is_jr
        FROM read_parquet({files!r}, filename = true, file_row_number = true, union_by_name = true)
    """)
    con.execute("""
        CREATE TEMP VIEW timed AS
        SELECT *, CASE WHEN isfinite(t_start) THEN least(t_start, end_t) ELSE least(arrive, end_t) END AS start_t
        FROM (SELECT *, CASE WHEN isfinite(arrive + latency_ms / 1000.0)
                             THEN arrive + latency_ms / 1000.0 ELSE arrive END AS end_t
              FROM (SELECT *, CASE WHEN is_jr AND isfinite(t_intended) THEN t_intended
                                   ELSE t_start END AS arrive FROM raw))
    """)
    late = (ended_at + MAX_LATE_S if ended_at is not None and math.isfinite(ended_at)
            else started_at + MAX_RUN_S + MAX_LATE_S if math.isfinite(started_at) else math.inf)
    early = started_at - MAX_EARLY_S if math.isfinite(started_at) else -math.inf
    con.execute(f"""
        CREATE TEMP VIEW valid AS
        SELECT * FROM timed
        WHERE isfinite(arrive) AND step IS NOT NULL
          AND kind IN ('{record.KIND_REQUEST}', '{record.KIND_JOURNEY}', '{record.KIND_DROPPED}')
          AND end_t - arrive <= {MAX_LATENCY_S!r} AND end_t >= arrive
          AND arrive >= {early!r} AND arrive <= {late!r}
    """)
    (implausible,) = con.execute(f"""
        SELECT count(*) FROM timed WHERE isfinite(arrive) AND step IS NOT NULL
          AND kind IN ('{record.KIND_REQUEST}', '{record.KIND_JOURNEY}', '{record.KIND_DROPPED}')
          AND NOT coalesce(end_t - arrive <= {MAX_LATENCY_S!r} AND end_t >= arrive
                           AND arrive >= {early!r} AND arrive <= {late!r}, false)
    """).fetchall()[0]
    if implausible and warnings is not None:
        warnings.append(
            f"{implausible:,} records with timestamps or latencies far outside the run "
            "(clock or recording errors) were left out"
        )
    # series in order of first arrival; a tie goes to the step seen first in the shards
    seen = con.execute("""
        SELECT step, min(file_index) AS f, arg_min(file_row_number, (file_index, file_row_number))
        FROM raw WHERE step IS NOT NULL GROUP BY step
    """).fetchall()
    step_code = {s: i for i, (s, *_rest) in enumerate(sorted(seen, key=lambda r: (r[1], r[2])))}
    found = con.execute(
        "SELECT step, is_jr, min(arrive), max(arrive), max(end_t) FROM valid GROUP BY step, is_jr"
    ).fetchall()
    combos = [row[:3] for row in found]
    n_steps = max(len(step_code), 1)
    request_names = {s for s, jr, _ in combos if not jr}
    ranked = sorted(combos, key=lambda c: (c[2], int(c[1]) * n_steps + step_code[c[0]]))
    names = [f"journey:{s}" if jr and s in request_names else s for s, jr, _ in ranked]
    scopes = [SCOPE_JOURNEY if jr else SCOPE_REQUEST for _, jr, _ in ranked]
    first = min((c[2] for c in combos), default=started_at)
    t0 = started_at if math.isfinite(started_at) else first
    if first < t0:
        t0 -= math.ceil((t0 - first) / window_s) * window_s
    con.execute("CREATE TEMP TABLE series_map (step VARCHAR, is_jr BOOLEAN, s INTEGER)")
    con.executemany("INSERT INTO series_map VALUES (?, ?, ?)",
                    [(s, bool(jr), i) for i, (s, jr, _) in enumerate(ranked)])
    con.execute(f"""
        CREATE TEMP VIEW indexed AS
        SELECT m.s, v.kind, v.outcome, v.reason, nullif(v.journey, '') AS journey, v.attempt,
               v.person_id, v.t_start, v.latency_ms, v.kind <> 'request' AS is_arrival,
               v.file_index, v.file_row_number,
               floor((v.arrive - {t0!r}) / {window_s!r})::BIGINT AS arrive_w,
               floor((v.end_t - {t0!r}) / {window_s!r})::BIGINT AS end_w,
               v.start_t - {t0!r} AS start_rel, v.end_t - {t0!r} AS end_rel
        FROM valid v JOIN series_map m ON v.step = m.step AND v.is_jr = m.is_jr
    """)
    con.execute(LATENCY_VIEW)
    # the last window any record arrives or ends in (floor is monotonic: of the maxima)
    last = max((math.floor((t - t0) / window_s) for row in found for t in row[3:]), default=0)
    n_windows = max(last, 0) + 1
    outcomes = [o for (o,) in con.execute(
        "SELECT outcome FROM raw WHERE outcome IS NOT NULL GROUP BY outcome "
        "ORDER BY min(file_index), arg_min(file_row_number, (file_index, file_row_number))").fetchall()]
    journeys = [j for (j,) in con.execute(
        "SELECT journey FROM raw WHERE journey IS NOT NULL GROUP BY journey "
        "ORDER BY min(file_index), arg_min(file_row_number, (file_index, file_row_number))").fetchall()]
    index = ScanIndex(float(t0), float(window_s), n_windows, names, scopes, outcomes, journeys)
    return index, _window_frame(con, index), con


def _window_frame(con, index: ScanIndex) -> pd.DataFrame:  # noqa: ANN001
    n_s, n_w, w = len(index.series_names), index.n_windows, index.window_s
    size = n_s * n_w
    offered = np.zeros(size, np.int64)
    for s, aw, n in con.execute("SELECT s, arrive_w, count(*) FROM indexed GROUP BY ALL").fetchall():
        offered[s * n_w + aw] = n
    completed = np.zeros(size, np.int64)
    good = np.zeros(size, np.int64)
    by_class = np.zeros((size, len(index.outcome_names)), np.int64)
    pct = np.full((size, len(PERCENTILE_COLUMNS)), np.nan)
    rows = con.execute(f"""
        SELECT s, end_w, outcome, count(*) FROM indexed GROUP BY ALL
    """).fetchall()
    code = {o: j for j, o in enumerate(index.outcome_names)}
    for s, ew, outcome, n in rows:
        k = s * n_w + ew
        completed[k] += n
        if outcome == record.OK:
            good[k] += n
        if outcome is not None:
            by_class[k, code[outcome]] += n
    group_of = np.arange(size, dtype=np.int64).reshape(n_s, n_w)
    _, pct = latency_quantiles(con, group_of, size)
    arrivals = np.zeros(n_w)
    journey_rows = con.execute(
        f"SELECT count(*) FROM indexed WHERE kind <> '{record.KIND_REQUEST}'").fetchall()[0][0]
    if journey_rows:
        for aw, n in con.execute(
                f"SELECT arrive_w, count(*) FROM indexed WHERE kind <> '{record.KIND_REQUEST}' GROUP BY ALL").fetchall():
            arrivals[aw] = n
    else:
        arrivals[:] = np.nan

    frame = pd.DataFrame({
        "series": pd.Categorical.from_codes(np.repeat(np.arange(n_s), n_w), categories=index.series_names),
        "scope": pd.Categorical.from_codes(
            np.repeat([0 if sc == SCOPE_REQUEST else 1 for sc in index.series_scopes], n_w),
            categories=[SCOPE_REQUEST, SCOPE_JOURNEY]),
        "window": np.tile(np.arange(n_w, dtype=np.int32), n_s),
    })
    frame["t"] = index.t0 + frame["window"].to_numpy() * w
    frame["offered"] = offered
    frame["offered_rps"] = offered / w
    frame["arrivals_rps"] = np.tile(arrivals, n_s) / w
    frame["completed"] = completed
    frame["ok"] = good
    frame["errors"] = completed - good
    frame["goodput_rps"] = good / w
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["error_rate"] = np.where(completed > 0, frame["errors"] / completed, np.nan)
    for j, name in enumerate(index.outcome_names):
        if name != record.OK:
            frame[f"err_{name}"] = by_class[:, j]
    for j, name in enumerate(PERCENTILE_COLUMNS):
        frame[name] = pct[:, j]
    frame["concurrency"] = _concurrency(con, index).reshape(-1)
    return frame


# latencies as windows.py resolves them: 0.1-us steps, rounded half to even like np.rint
_Q = repr(LATENCY_QUANTUM_MS)
LATENCY_VIEW = f"""
    CREATE TEMP VIEW latencies AS
    SELECT s, end_w, (CASE WHEN latency_ms / {_Q} - floor(latency_ms / {_Q}) = 0.5
                                AND floor(latency_ms / {_Q}) % 2 = 0
                           THEN floor(latency_ms / {_Q})
                           ELSE round(latency_ms / {_Q}) END) * {_Q} AS lat
    FROM indexed WHERE isfinite(latency_ms)
"""


def latency_quantiles(con, group_of: np.ndarray, n_groups: int,  # noqa: ANN001
                      quantiles: tuple[float, ...] = QUANTILES) -> tuple[np.ndarray, np.ndarray]:
    """windows.grouped_quantiles for groups of (series, completion window): `group_of[s, w]`
    is the group of the records of series s completing in window w (-1: none). Returns
    (counts[n_groups], values[n_groups, len(quantiles) + 1]) with NaN for empty groups."""
    s_idx, w_idx = np.nonzero(group_of >= 0)
    groups = pd.DataFrame({"s": s_idx.astype(np.int64), "end_w": w_idx.astype(np.int64),
                           "g": group_of[s_idx, w_idx].astype(np.int64)})
    con.register("group_map", groups)
    counts = np.zeros(n_groups, np.int64)
    out = np.full((n_groups, len(quantiles) + 1), np.nan)
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


def _concurrency(con, index: ScanIndex) -> np.ndarray:  # noqa: ANN001
    """Time-average records in flight per (series, window): for each window edge b, the
    integral of starts minus ends up to b, from per-window counts and sums (exact algebra;
    the summation order differs from windows.concurrency)."""
    n_s, n_w, w = len(index.series_names), index.n_windows, index.window_s
    edges = np.arange(n_w + 1, dtype=np.float64) * w
    out = np.zeros((n_s, n_w))
    for column in ("start_rel", "end_rel"):
        count = np.zeros((n_s, n_w + 1))
        total = np.zeros((n_s, n_w + 1))
        # a time x counts for every edge b >= x: bucket by the first edge at or after it
        for s, bucket, n, sm in con.execute(f"""
            SELECT s, least(greatest(ceil({column} / {w!r}), 0), {n_w})::BIGINT, count(*), sum({column})
            FROM indexed GROUP BY ALL
        """).fetchall():
            count[s, bucket] += n
            total[s, bucket] += sm
        n_le = np.cumsum(count, axis=1)
        sum_le = np.cumsum(total, axis=1)
        integral = edges * n_le - sum_le
        out += (1 if column == "start_rel" else -1) * np.diff(integral, axis=1) / w
    return out


class RecordIndex:
    """The queries the analysis stages make of the records, answered by DuckDB from the
    shards (the connection and its views stay open until close())."""

    def __init__(self, files: list[Path], started_at: float, window_s: float,
                 ended_at: float | None = None, warnings: list[str] | None = None) -> None:
        self.index, self.windows, self.con = open_scan(files, started_at, window_s, ended_at,
                                                       warnings)
        # what windows.RecordIndex told the stages about the run's shape
        self.t0, self.window_s, self.n_windows = self.index.t0, self.index.window_s, self.index.n_windows
        self.series_names, self.series_scopes = self.index.series_names, self.index.series_scopes
        self.outcome_names, self.journey_names = self.index.outcome_names, self.index.journey_names

    @property
    def n_series(self) -> int:
        return len(self.series_names)

    def window_start(self, w: np.ndarray | int) -> np.ndarray:
        return self.t0 + np.asarray(w, dtype=np.float64) * self.window_s

    def series_of(self, name: str) -> int:
        return self.series_names.index(name)

    def journey_series(self, journey: str) -> str:
        prefixed = f"journey:{journey}"
        return prefixed if prefixed in self.series_names else journey

    def close(self) -> None:
        self.con.close()

    def latency_quantiles(self, group_of: np.ndarray, n_groups: int,
                          quantiles: tuple[float, ...] = QUANTILES) -> tuple[np.ndarray, np.ndarray]:
        return latency_quantiles(self.con, group_of, n_groups, quantiles)

    def series_totals(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Whole-run records, successes and records per outcome class, per series (every
        record ends in one window: the window table's sums)."""
        n_s, n_w = len(self.series_names), self.n_windows
        frame = self.windows

        def per_series(column: str) -> np.ndarray:
            return frame[column].to_numpy().reshape(n_s, n_w).sum(axis=1).astype(np.int64)

        total, ok = per_series("completed"), per_series("ok")
        by_class = np.column_stack([
            ok if name == record.OK else per_series(f"err_{name}") for name in self.outcome_names
        ]) if self.outcome_names else np.zeros((n_s, 0), np.int64)
        return total, ok, by_class

    def series_quantiles(self) -> np.ndarray:
        """Whole-run latency percentiles and max per series."""
        n_s, n_w = len(self.index.series_names), self.index.n_windows
        group_of = np.repeat(np.arange(n_s, dtype=np.int64)[:, None], n_w, axis=1)
        return self.latency_quantiles(group_of, n_s)[1]

    def latency_sample(self, s: int, windows: np.ndarray, cap: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """digest.py's latency sample: the raw latencies of series s completing in the
        given windows, at most `cap` per window, chosen by a seeded hash of each record's
        place in the shards (deterministic, no row held in Python beyond the sample)."""
        con = self.con
        con.register("sample_windows", pd.DataFrame({"end_w": np.asarray(windows, dtype=np.int64)}))
        try:
            rows = con.execute(f"""
                SELECT end_w, latency_ms FROM (
                    SELECT end_w, latency_ms, file_index, file_row_number,
                           row_number() OVER (PARTITION BY end_w
                                              ORDER BY hash(file_index, file_row_number, {int(seed)})) AS r
                    FROM indexed JOIN sample_windows USING (end_w)
                    WHERE s = {int(s)} AND isfinite(latency_ms))
                WHERE r <= {int(cap)} ORDER BY end_w, file_index, file_row_number
            """).fetchnumpy()
        finally:
            con.unregister("sample_windows")
        return rows["end_w"].astype(np.int64), rows["latency_ms"].astype(np.float64)

    def records(self) -> int:
        """Every row of every shard, analysed or not (analysis.json's run.records)."""
        return int(self.con.execute("SELECT count(*) FROM raw").fetchall()[0][0])

    def top_reasons(self, top: int = 3) -> dict[int, list[dict]]:
        """sections._top_reasons: the commonest failure reasons per series; a tie goes to
        the reason seen later in the shards (numpy's reversed stable argsort)."""
        rows = self.con.execute(f"""
            WITH firsts AS (
                SELECT reason, min(file_index) AS f, arg_min(file_row_number, (file_index, file_row_number)) AS r
                FROM raw WHERE reason IS NOT NULL GROUP BY reason)
            SELECT i.s, i.reason, count(*) AS n, any_value(f.f), any_value(f.r)
            FROM indexed i JOIN firsts f USING (reason)
            WHERE i.outcome IS DISTINCT FROM '{record.OK}' GROUP BY i.s, i.reason
        """).fetchall()
        out: dict[int, list[dict]] = {}
        for s in range(len(self.index.series_names)):
            mine = sorted((r for r in rows if r[0] == s), key=lambda r: (-r[2], -r[3], -r[4]))
            out[s] = [{"reason": r[1] or "(no reason given)", "count": int(r[2])} for r in mine[:top]]
        return out

    @functools.cache  # noqa: B019 - asked by the ranking, retries and drops
    def arrivals(self) -> dict:
        """Journey arrivals (attempts and drops) for retries and drops: totals, people and
        per-window counts."""
        n_w = self.index.n_windows
        attempts, firsts_total, no_id, persons = self.con.execute("""
            SELECT count(*), count(*) FILTER (WHERE attempt <= 1),
                   count(*) FILTER (WHERE person_id IS NULL OR person_id = ''),
                   count(DISTINCT person_id)
            FROM indexed WHERE is_arrival
        """).fetchall()[0]
        per_window = np.zeros(n_w, np.int64)
        firsts = np.zeros(n_w, np.int64)
        dropped = np.zeros(n_w, np.int64)
        for w, n, f, d in self.con.execute(f"""
            SELECT arrive_w, count(*), count(*) FILTER (WHERE attempt <= 1),
                   count(*) FILTER (WHERE kind = '{record.KIND_DROPPED}')
            FROM indexed WHERE is_arrival GROUP BY ALL
        """).fetchall():
            per_window[w], firsts[w], dropped[w] = n, f, d
        by_journey = dict(self.con.execute(f"""
            SELECT journey, count(*) FROM indexed
            WHERE kind = '{record.KIND_DROPPED}' AND journey IS NOT NULL GROUP BY ALL
        """).fetchall())
        return {"attempts": int(attempts), "first_attempts": int(firsts_total),
                "persons": 0 if no_id else int(persons), "per_window": per_window,
                "firsts_per_window": firsts, "dropped_per_window": dropped,
                "dropped_by_journey": by_journey}

    @functools.cache  # noqa: B019 - peak demand and the cost model's journeys both ask
    def requests_by_journey_window(self) -> list[tuple[int, str, int, int]]:
        """(series, journey, arrival window, requests) of request rows with a journey."""
        return self.con.execute("""
            SELECT s, journey, arrive_w, count(*) FROM indexed
            WHERE NOT is_arrival AND journey IS NOT NULL GROUP BY ALL
        """).fetchall()

    def arrivals_by_journey_window(self) -> list[tuple[str, int, int]]:
        return self.con.execute("""
            SELECT journey, arrive_w, count(*) FROM indexed
            WHERE is_arrival AND journey IS NOT NULL GROUP BY ALL
        """).fetchall()

    def counts_up_to(self, edges: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """For the cost model: per request step, how many requests had their middle
        (start + latency / 2) at or before each edge; per journey, how many arrivals (by
        t_start). `edges` sorted ascending (epoch s); exact, as searchsorted(side="right")."""
        con = self.con
        con.register("edges", pd.DataFrame({"e": np.asarray(edges, dtype=np.float64),
                                            "k": np.arange(len(edges), dtype=np.int64)}))
        try:
            steps: dict[str, np.ndarray] = {}
            names = self.index.series_names
            for s, k, n in con.execute("""
                SELECT m.s, e.k, count(*) FROM (
                    SELECT s, t_start + coalesce(CASE WHEN isnan(latency_ms) THEN 0 ELSE latency_ms END, 0)
                                        / 1000.0 / 2 AS t
                    FROM indexed WHERE NOT is_arrival) m
                ASOF JOIN edges e ON m.t <= e.e GROUP BY ALL
            """).fetchall():
                steps.setdefault(names[s], np.zeros(len(edges), np.int64))[k] += n
            journeys: dict[str, np.ndarray] = {}
            for j, k, n in con.execute("""
                SELECT a.journey, e.k, count(*) FROM (
                    SELECT journey, t_start AS t FROM indexed WHERE is_arrival AND journey IS NOT NULL) a
                ASOF JOIN edges e ON a.t <= e.e GROUP BY ALL
            """).fetchall():
                journeys.setdefault(j, np.zeros(len(edges), np.int64))[k] += n
        finally:
            con.unregister("edges")
        return ({k: np.cumsum(v) for k, v in steps.items()},
                {k: np.cumsum(v) for k, v in journeys.items()})

    def journeys_of_steps(self) -> dict[str, list[str]]:
        names = self.index.series_names
        out: dict[str, list[str]] = {}
        order = {j: i for i, j in enumerate(self.journey_names)}
        for s, j in {(s, j) for s, j, _, _ in self.requests_by_journey_window()}:
            out.setdefault(names[s], []).append(j)
        return {n: sorted(js, key=order.__getitem__) for n, js in out.items()}


def start_times(paths: list[Path], span_s: float) -> tuple[float, float] | None:
    """rundir_reader's check of the run's times: the median finite t_start of all records,
    and the earliest within span_s of it; None without a finite t_start."""
    con = connect()
    try:
        middle, first = con.execute(f"""
            WITH t AS (SELECT t_start FROM read_parquet({[str(p) for p in paths]!r}, union_by_name = true)
                       WHERE isfinite(t_start)),
                 m AS (SELECT median(t_start) AS middle FROM t)
            SELECT any_value(middle), min(t_start) FILTER (WHERE abs(t_start - middle) <= {span_s!r})
            FROM t, m
        """).fetchall()[0]
    finally:
        con.close()
    return None if middle is None else (float(middle), float(first))
