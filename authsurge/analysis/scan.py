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


def connect(spill: Path | None = None):  # noqa: ANN201 - duckdb is imported lazily
    import duckdb

    folder = spill or Path(tempfile.gettempdir())
    return duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "threads": 2,
                                  "temp_directory": str(folder / "authsurge-duckdb-spill"),
                                  "preserve_insertion_order": False})


def _shards(run_dir: Path) -> list[str]:
    return [str(p) for p in sorted((run_dir / "requests").glob("*.parquet"))]


def scan_windows(run_dir: Path, started_at: float, window_s: float,
                 ended_at: float | None = None) -> tuple[ScanIndex, pd.DataFrame]:
    con = connect()
    files = _shards(run_dir)
    con.execute(f"""
        CREATE TEMP VIEW raw AS
        SELECT kind, step, outcome, t_start, t_intended, latency_ms,
               filename, file_row_number,
               kind IN ('{record.KIND_JOURNEY}', '{record.KIND_DROPPED}') AS is_jr
        FROM read_parquet({files!r}, filename = true, file_row_number = true)
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
    # series in order of first arrival; a tie goes to the step seen first in the shards
    order = {name: i for i, name in enumerate(files)}
    seen = con.execute("""
        SELECT step, min(filename) AS f, arg_min(file_row_number, (filename, file_row_number))
        FROM raw WHERE step IS NOT NULL GROUP BY step
    """).fetchall()
    step_code = {s: i for i, (s, *_rest) in enumerate(sorted(seen, key=lambda r: (order[r[1]], r[2])))}
    combos = con.execute("SELECT step, is_jr, min(arrive) FROM valid GROUP BY step, is_jr").fetchall()
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
        SELECT m.s, v.kind, v.outcome, v.latency_ms,
               floor((v.arrive - {t0!r}) / {window_s!r})::BIGINT AS arrive_w,
               floor((v.end_t - {t0!r}) / {window_s!r})::BIGINT AS end_w,
               v.start_t - {t0!r} AS start_rel, v.end_t - {t0!r} AS end_rel
        FROM valid v JOIN series_map m ON v.step = m.step AND v.is_jr = m.is_jr
    """)
    (n_windows,) = con.execute(
        "SELECT greatest(coalesce(max(arrive_w), 0), coalesce(max(end_w), 0)) + 1 FROM indexed"
    ).fetchone()
    n_windows = int(n_windows)
    outcomes = [o for (o,) in con.execute(
        "SELECT outcome FROM raw WHERE outcome IS NOT NULL GROUP BY outcome "
        "ORDER BY min(filename), arg_min(file_row_number, (filename, file_row_number))").fetchall()]
    index = ScanIndex(float(t0), float(window_s), n_windows, names, scopes, outcomes)
    return index, _window_frame(con, index)


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
    q = list(QUANTILES)
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
    # latencies as windows.py resolves them: 0.1-us steps, rounded half to even
    for s, ew, values, mx in con.execute(f"""
        SELECT s, end_w, quantile_cont(lat, {q}), max(lat) FROM (
            SELECT s, end_w, (CASE WHEN latency_ms / {LATENCY_QUANTUM_MS!r} - floor(latency_ms / {LATENCY_QUANTUM_MS!r}) = 0.5
                                   AND floor(latency_ms / {LATENCY_QUANTUM_MS!r}) % 2 = 0
                              THEN floor(latency_ms / {LATENCY_QUANTUM_MS!r})
                              ELSE round(latency_ms / {LATENCY_QUANTUM_MS!r}) END) * {LATENCY_QUANTUM_MS!r} AS lat
            FROM indexed WHERE isfinite(latency_ms))
        GROUP BY ALL
    """).fetchall():
        pct[s * n_w + ew, :-1] = values
        pct[s * n_w + ew, -1] = mx
    arrivals = np.zeros(n_w)
    journey_rows = con.execute(
        f"SELECT count(*) FROM indexed WHERE kind <> '{record.KIND_REQUEST}'").fetchone()[0]
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
