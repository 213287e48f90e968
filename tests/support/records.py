"""Small record tables written as a shard and indexed by the engine, for the unit tests of
the window rules (the analysis reads shards, never frames)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from authsurge.analysis.record_index import RecordIndex
from authsurge.rundir.records import REQUEST_SCHEMA

BASE = {"kind": "request", "t_intended": np.nan, "journey": "j", "journey_id": "j-1",
        "person_id": "p", "attempt": 1, "method": "GET", "status": 200, "outcome": "ok",
        "reason": "", "bytes": 0, "worker": "w0", "cohort": "surge", "source": ""}


def frame(rows: list[dict]) -> pd.DataFrame:
    """Records with the format's columns; each row's keys override BASE."""
    return pd.DataFrame([{**BASE, **r} for r in rows])


def write_shard(df: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pandas(df[REQUEST_SCHEMA.names], schema=REQUEST_SCHEMA,
                                        preserve_index=False), path)
    return path


def index_of(df: pd.DataFrame, folder: Path, started_at: float, window_s: float,
             ended_at: float | None = None, warnings: list[str] | None = None) -> RecordIndex:
    """The RecordIndex of `df` written as one shard in `folder` (the caller closes it)."""
    shard = write_shard(df, folder / f"records-{len(list(folder.glob('records-*')))}.parquet")
    return RecordIndex([shard], started_at, window_s, ended_at, warnings)


def read_records(run_dir: Path) -> pd.DataFrame:
    """Every record of a run's Parquet shards, for brute-force checks on small runs."""
    shards = sorted((run_dir / "requests").glob("*.parquet"))
    return pd.concat([pq.read_table(p).to_pandas() for p in shards], ignore_index=True)
