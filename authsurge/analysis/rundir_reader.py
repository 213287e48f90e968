"""Run directory -> RunData (format_version 1, see docs/CONTRACTS.md).

What is read, and how damage is handled:

- ``meta.json`` is required: a missing directory, a missing or unreadable meta.json, an
  unknown format_version, or a run without a single readable request record raise
  `RunDirError` (exit status 2).
- ``requests/*.parquet`` are the clean shards; ``requests/*.arrows`` are the Arrow IPC
  streams of writers that never closed (a crash, SIGKILL) and are read up to their last
  complete batch. A stream whose Parquet shard of the same stem exists is a leftover from a
  crash after compaction and is skipped: the Parquet file holds the same rows.
- A shard that cannot be read (corrupt Parquet, wrong columns) becomes a warning in
  `RunData.warnings` and the rest of the run is still analysed. Nothing here prints.
- ``schedule.parquet`` and ``resources.parquet`` (or its leftover ``resources.arrows``)
  are optional; when absent the frames are None and the analysis says so.
- A meta.json key of the wrong type (``levels: 3``, ``started_at: "x"``), a malformed
  level, and a start or end time a day away from the records' own times are left out
  with a warning; the analysis then does without them (the first record's time stands in
  for started_at). An analysis window under MIN_WINDOW_S falls back to the default.

Memory: the request records are never loaded. `RunData.records` lists the shards (checked
here, see record_files); the analysis engine scans them (record_index). Only the small
tables (schedule, resources, metrics) become DataFrames.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pyarrow import ipc

from authsurge import rundir
from authsurge.analysis.record_files import RecordFiles, record_files, scan_sound_shards
from authsurge.analysis.record_views import first_start_near, middle_start
from authsurge.errors import RunDirError
from authsurge.rundir.records import (
    OPTIONAL_RESOURCE_COLUMNS,
    RESOURCE_SCHEMA,
    read_stream,
)
from authsurge.scenario import AnalysisConfig, Slo

# resources.parquet's low-cardinality string column, read as a categorical
RESOURCE_CATEGORICALS = ("source",)

MAX_RUN_SPAN_S = 25 * 3600.0  # runs are bounded at 24 h (run.duration_s) plus the drain
MIN_WINDOW_S = 0.01  # a finer window makes millions of windows and says nothing about capacity

SCHEDULE_SCHEMA = pa.schema(
    [("t", pa.float64()), ("journey", pa.string()), ("planned_rate", pa.float64())]
)


@dataclass
class RunData:
    """Everything a run directory holds that the analysis reads."""

    run_dir: Path
    meta: dict[str, Any]
    records: RecordFiles  # the request shards to scan (close() removes converted streams)
    schedule: pd.DataFrame | None  # t, journey, planned_rate; None when absent
    resources: pd.DataFrame | None  # RESOURCE_SCHEMA columns; None when absent
    metrics: pd.DataFrame | None = None  # scraped counters: t, metric, value; None when absent
    warnings: list[str] = field(default_factory=list)

    @property
    def shards(self) -> list[str]:
        """The request files read, relative to run_dir."""
        return self.records.shards

    @property
    def config(self) -> AnalysisConfig:
        """meta["analysis"] as the scenario model (defaults for missing keys)."""
        config = analysis_config(self.meta, self.warnings)
        if config.window_s < MIN_WINDOW_S:
            self.warnings.append(
                f"meta.json analysis.window_s {config.window_s:g} s is below {MIN_WINDOW_S:g} s; "
                f"using {AnalysisConfig().window_s:g} s"
            )
            config = config.model_copy(update={"window_s": AnalysisConfig().window_s})
        return config

    @property
    def slos(self) -> list[Slo]:
        return parse_slos(self.meta, self.warnings)

    @functools.cached_property
    def started_at(self) -> float:
        """Epoch s the run started: meta started_at, else the first record (of those within a
        run's length of the records' median time: one garbage timestamp must not stand in)."""
        started = self.meta.get("started_at")
        if isinstance(started, int | float) and math.isfinite(started):
            return float(started)
        middle = scan_sound_shards(self.records, self.warnings, middle_start)
        if middle is None:
            return math.nan
        return scan_sound_shards(
            self.records,
            self.warnings,
            lambda files: first_start_near(files, middle, MAX_RUN_SPAN_S),
        )


def load_run(run_dir: str | Path) -> RunData:
    """Read a run directory (the request shards are checked, not loaded); raise
    RunDirError when nothing usable is there."""
    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise RunDirError(f"{run_dir}: no such run directory")
    if not run_dir.is_dir():
        raise RunDirError(f"{run_dir}: not a directory (give the run directory, e.g. runs/<id>/)")
    warnings: list[str] = []
    meta = read_meta(run_dir, warnings)
    records = record_files(run_dir, warnings)
    _check_run_times(meta, records, warnings)
    schedule = _read_schedule(run_dir, warnings)
    resources = _read_resources(run_dir, warnings)
    metrics = _read_metrics(run_dir, warnings)
    return RunData(run_dir, meta, records, schedule, resources, metrics, warnings)


def read_meta(run_dir: Path, warnings: list[str] | None = None) -> dict[str, Any]:
    """meta.json through the run directory's one reader (authsurge.rundir.read_meta)."""
    return rundir.read_meta(run_dir, warnings).as_dict()


def _check_run_times(meta: dict[str, Any], records: RecordFiles, warnings: list[str]) -> None:
    """Leave out a start or end time that is further from the records than any run lasts
    (a damaged meta.json would otherwise stretch the timeline over years of empty windows)."""
    middle = scan_sound_shards(records, warnings, middle_start)
    if middle is None:
        return
    for key in ("started_at", "ended_at"):
        value = meta.get(key)
        if value is not None and abs(value - middle) > MAX_RUN_SPAN_S:
            warnings.append(
                f"meta.json {key} ({value:.0f}) is more than {MAX_RUN_SPAN_S / 3600:.0f} h away from "
                "the records' times; left out"
            )
            del meta[key]


def analysis_config(meta: dict[str, Any], warnings: list[str] | None = None) -> AnalysisConfig:
    raw = meta.get("analysis") or {}
    try:
        return AnalysisConfig.model_validate(raw)
    except ValueError as exc:
        if warnings is not None:
            warnings.append(
                f"meta.json analysis settings unusable ({_first_line(exc)}); using defaults"
            )
        return AnalysisConfig()


def parse_slos(meta: dict[str, Any], warnings: list[str] | None = None) -> list[Slo]:
    """meta["slos"]: model dumps (what the runner writes) or SLO strings; bad ones are warnings."""
    slos: list[Slo] = []
    for item in meta.get("slos") or []:
        try:
            slos.append(Slo.parse(item) if isinstance(item, str) else Slo.model_validate(item))
        except ValueError as exc:
            if warnings is not None:
                warnings.append(f"meta.json SLO {item!r} skipped: {_first_line(exc)}")
    return slos


# --- requests ---------------------------------------------------------------------------


def _read_shard(
    path: Path, schema: pa.Schema, target: pa.Schema, warnings: list[str], run_dir: Path
) -> pa.Table | None:
    rel = path.relative_to(run_dir)
    if path.suffix == ".arrows":
        table = read_stream(path, schema)
        if table.num_rows == 0:
            warnings.append(f"{rel}: an unclosed stream with no complete batch; skipped")
            return None
        warnings.append(
            f"{rel}: the writer did not close cleanly (crashed or killed run); "
            f"read {table.num_rows:,} rows up to its last complete batch"
        )
    else:
        try:
            table = pq.read_table(
                path,
                columns=[n for n in target.names],
                read_dictionary=[f.name for f in target if pa.types.is_dictionary(f.type)],
            )
        except (pa.ArrowException, OSError, ValueError) as exc:
            warnings.append(f"{rel}: unreadable Parquet shard ({_first_line(exc)}); skipped")
            return None
    try:
        table = _conform(table, target)
    except (pa.ArrowException, KeyError, ValueError) as exc:
        warnings.append(
            f"{rel}: columns do not match the record format ({_first_line(exc)}); skipped"
        )
        return None
    try:
        table.validate(full=True)  # a damaged page can decode into invalid UTF-8 or bad indices
    except (pa.ArrowException, ValueError) as exc:
        warnings.append(f"{rel}: corrupt values ({_first_line(exc)}); skipped")
        return None
    return table


def _target_schema(schema: pa.Schema, names: list[str], categoricals: tuple[str, ...]) -> pa.Schema:
    fields = []
    for name in names:
        f = schema.field(name)
        if name in categoricals:
            f = pa.field(name, pa.dictionary(pa.int32(), pa.string()))
        fields.append(f)
    return pa.schema(fields)


def _conform(table: pa.Table, target: pa.Schema) -> pa.Table:
    """Select and cast to the target schema (dictionary-encode categoricals)."""
    columns = []
    for f in target:
        column = table.column(f.name)
        if pa.types.is_dictionary(f.type) and not pa.types.is_dictionary(column.type):
            column = column.cast(pa.string()).dictionary_encode()
        if column.type != f.type:
            column = column.cast(f.type)
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=target)


# --- schedule and resources -------------------------------------------------------------


def _read_schedule(run_dir: Path, warnings: list[str]) -> pd.DataFrame | None:
    path = run_dir / "schedule.parquet"
    if not path.exists():
        return None
    try:
        table = _conform(
            pq.read_table(path),
            _target_schema(SCHEDULE_SCHEMA, SCHEDULE_SCHEMA.names, ("journey",)),
        )
    except (pa.ArrowException, OSError, KeyError, ValueError) as exc:
        warnings.append(
            f"schedule.parquet: unreadable ({_first_line(exc)}); "
            "peak demand falls back to the observed offered load"
        )
        return None
    return table.to_pandas()


def _read_resources(run_dir: Path, warnings: list[str]) -> pd.DataFrame | None:
    path = run_dir / "resources.parquet"
    stream = run_dir / "resources.arrows"
    if path.exists():
        chosen = path
    elif stream.exists():
        chosen = stream
    else:
        return None
    # runs written before a column was added lack it: read what is there, fill the rest
    present = set(_columns_of(chosen))
    names = [n for n in RESOURCE_SCHEMA.names if n in present or n not in OPTIONAL_RESOURCE_COLUMNS]
    schema = pa.schema([RESOURCE_SCHEMA.field(n) for n in names])
    target = _target_schema(schema, names, RESOURCE_CATEGORICALS)
    table = _read_shard(chosen, schema, target, warnings, run_dir)
    if table is None or table.num_rows == 0:
        return None
    frame = table.to_pandas()
    for name in OPTIONAL_RESOURCE_COLUMNS:
        if name not in frame:
            frame[name] = np.nan
    return frame


def _columns_of(path: Path) -> list[str]:
    """Column names of a Parquet file or an Arrow stream (none when unreadable)."""
    try:
        if path.suffix == ".arrows":
            with open(path, "rb") as f:
                return list(ipc.open_stream(f).schema.names)
        return list(pq.read_schema(path).names)
    except (pa.ArrowException, OSError, EOFError):
        return []


def _read_metrics(run_dir: Path, warnings: list[str]) -> pd.DataFrame | None:
    """metrics.parquet: Prometheus counters scraped during the run (target.prometheus_url)."""
    path = run_dir / "metrics.parquet"
    if not path.exists():
        return None
    try:
        frame = pq.read_table(path, columns=["t", "metric", "value"]).to_pandas()
    except (pa.ArrowException, OSError, KeyError, ValueError) as exc:
        warnings.append(f"metrics.parquet: unreadable ({_first_line(exc)}); counters not used")
        return None
    return frame if not frame.empty else None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
