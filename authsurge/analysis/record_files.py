"""WORK IN PROGRESS (issue 15): the request shards a run's analysis reads, checked, as
files DuckDB scans (authsurge.analysis.scan) instead of rows loaded into pandas.

The same rules as rundir_reader's pandas reader had:
- ``requests/*.parquet`` are the clean shards; a ``requests/*.arrows`` stream without a
  Parquet twin (a writer that never closed) is read up to its last complete batch and
  written to a temporary Parquet file (removed by close());
- a shard that cannot be read, lacks an analysed column, or holds corrupt values (a full
  decode of its columns by DuckDB) is a warning and is skipped; an empty one is skipped.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from authsurge.errors import RunDirError
from authsurge.rundir.records import REQUEST_SCHEMA, read_stream

# the columns analyze_run reads (journey_id, method, bytes and worker are never needed)
ANALYSIS_COLUMNS = (
    "kind",
    "t_intended",
    "t_start",
    "step",
    "journey",
    "person_id",
    "attempt",
    "status",
    "outcome",
    "reason",
    "latency_ms",
)


@dataclass
class RecordFiles:
    files: list[Path]  # Parquet files to scan: shards, and streams converted
    shards: list[str]  # the shards read, relative to the run directory
    rows: int  # records in them
    spill: Path | None = None  # the converted streams' temp dir
    _closed: bool = field(default=False, repr=False)

    def close(self) -> None:
        if self.spill is not None and not self._closed:
            shutil.rmtree(self.spill, ignore_errors=True)
        self._closed = True


def shard_files(folder: Path) -> list[Path]:
    """*.parquet plus *.arrows without a Parquet twin, in a stable order."""
    if not folder.is_dir():
        return []
    parquet = sorted(folder.glob("*.parquet"))
    stems = {p.stem for p in parquet}
    streams = sorted(p for p in folder.glob("*.arrows") if p.stem not in stems)
    return sorted(parquet + streams)


def record_files(run_dir: Path, warnings: list[str]) -> RecordFiles:
    """The readable request shards of a run; RunDirError when there is none."""
    found = RecordFiles([], [], 0)
    for path in shard_files(run_dir / "requests"):
        rel = str(path.relative_to(run_dir))
        if path.suffix == ".arrows":
            table = read_stream(path, REQUEST_SCHEMA)
            if table.num_rows == 0:
                warnings.append(f"{rel}: an unclosed stream with no complete batch; skipped")
                continue
            warnings.append(
                f"{rel}: the writer did not close cleanly (crashed or killed run); "
                f"read {table.num_rows:,} rows up to its last complete batch"
            )
            if found.spill is None:
                found.spill = Path(tempfile.mkdtemp(prefix="authsurge-streams-"))
                # the scan reads these files as long as the analysis lives
                weakref.finalize(found, shutil.rmtree, found.spill, True)
            path = found.spill / f"{path.stem}.parquet"
            pq.write_table(table, path)
        rows = _checked(path, rel, warnings)
        if rows:
            found.files.append(path)
            found.shards.append(rel)
            found.rows += rows
    if not found.files:
        found.close()
        detail = "; ".join(warnings) if warnings else "requests/ has no shards"
        raise RunDirError(f"{run_dir}: no request records to analyse ({detail})")
    return found


def _checked(path: Path, rel: str, warnings: list[str]) -> int:
    """Rows of a shard that reads whole; 0 (and a warning) for one that does not."""
    try:
        names = set(pq.read_schema(path).names)
    except (pa.ArrowException, OSError, ValueError) as exc:
        warnings.append(f"{rel}: unreadable Parquet shard ({_first_line(exc)}); skipped")
        return 0
    missing = [c for c in ANALYSIS_COLUMNS if c not in names]
    if missing:
        warnings.append(f"{rel}: columns do not match the record format (no {missing}); skipped")
        return 0
    import duckdb

    # one pass that decodes every analysed column: a damaged page or invalid UTF-8 fails here
    touched = ", ".join(f"count({c})" for c in ANALYSIS_COLUMNS)
    try:
        con = duckdb.connect(config={"threads": 2})
        try:
            rows = con.execute(f"SELECT count(*), {touched} FROM read_parquet(?)",
                               [str(path)]).fetchall()[0][0]
        finally:
            con.close()
    except duckdb.Error as exc:
        warnings.append(f"{rel}: corrupt values ({_first_line(exc)}); skipped")
        return 0
    return int(rows)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
