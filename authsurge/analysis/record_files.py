"""The request shards a run's analysis reads, checked, as files the engine scans
(record_index) instead of rows loaded into memory.

The rules:
- ``requests/*.parquet`` are the clean shards; a ``requests/*.arrows`` stream without a
  Parquet twin (a writer that never closed) is read up to its last complete batch and
  written to a temporary Parquet file (removed by close());
- a shard whose footer cannot be read or that lacks an analysed column is a warning and
  is skipped; an empty one is skipped;
- a shard with pages that do not decode is found when a query fails: then every shard is
  decoded in full (drop_damaged), the broken ones are skipped with a warning, and the
  scan starts again (scan_sound_shards).
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from authsurge.analysis.engine import connect
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

    def drop_damaged(self, warnings: list[str]) -> bool:
        """Decode every value of every shard; leave out (with a warning) those that fail.
        True when one was left out. Run when a query failed: a full decode of 100M
        records takes about 6 s, too much to pay on every run for a rare damage."""
        kept = [
            (path, rel)
            for path, rel in zip(self.files, self.shards, strict=True)
            if _decodes(path, rel, warnings)
        ]
        if len(kept) == len(self.files):
            return False
        self.files = [path for path, _ in kept]
        self.shards = [rel for _, rel in kept]
        self.rows = sum(pq.read_metadata(path).num_rows for path in self.files)
        return True

    def close(self) -> None:
        """Remove the converted streams now (a finalizer removes them when collected)."""
        if self.spill is not None:
            shutil.rmtree(self.spill, ignore_errors=True)


T = TypeVar("T")
# errors of the query or the machine, never of a shard: nothing to decode again
_NOT_DAMAGE = (
    duckdb.BinderException,
    duckdb.ParserException,
    duckdb.CatalogException,
    duckdb.OutOfMemoryException,
    duckdb.InterruptException,
)


def scan_sound_shards(
    records: RecordFiles, warnings: list[str], scan: Callable[[list[Path]], T]
) -> T:
    """`scan(records.files)`; when a shard turns out not to decode, it is left out with a
    warning and the scan runs again over the others (RunDirError when none is left)."""
    before = len(warnings)
    try:
        return scan(records.files)
    except _NOT_DAMAGE:
        raise
    except duckdb.Error:
        del warnings[before:]  # the failed scan's warnings: the next one says them again
        if not records.drop_damaged(warnings):
            raise
    if not records.files:
        raise RunDirError(f"no request records to analyse ({'; '.join(warnings)})")
    return scan(records.files)


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
    """Rows of a shard whose footer and columns are the record format's; 0 (and a warning)
    for one that is not. Its pages are decoded only if a query fails (drop_damaged)."""
    try:
        meta = pq.read_metadata(path)
        names = set(meta.schema.names)
    except (pa.ArrowException, OSError, ValueError) as exc:
        warnings.append(f"{rel}: unreadable Parquet shard ({_first_line(exc)}); skipped")
        return 0
    missing = [c for c in ANALYSIS_COLUMNS if c not in names]
    if missing:
        warnings.append(f"{rel}: columns do not match the record format (no {missing}); skipped")
        return 0
    return int(meta.num_rows)


def _decodes(path: Path, rel: str, warnings: list[str]) -> bool:
    """Whether every value of the analysed columns decodes (a hash needs the values;
    count(column) would read only the page statistics)."""
    try:
        con = connect()
        try:
            con.execute(
                f"SELECT bit_xor(hash({', '.join(ANALYSIS_COLUMNS)})) FROM read_parquet(?)",
                [str(path)],
            ).fetchall()
        finally:
            con.close()
    except duckdb.Error as exc:
        warnings.append(f"{rel}: corrupt values ({_first_line(exc)}); skipped")
        return False
    return True


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
