"""The run directory: the one interface between running and analysing (one typed contract).

- layout: where every file lives, the one FORMAT_VERSION, creating a run directory;
- meta: RunMeta, meta.json's model, with its one writer and its one reader;
- records: the record schemas (requests, resources, metrics) and their writers.

docs/CONTRACTS.md lists every file with its writer and its reader.
"""

from __future__ import annotations

from authsurge.rundir.layout import (
    FORMAT_VERSION,
    META,
    RAW_INPUTS,
    new_run_dir,
    newest_raw_input,
    write_json_atomic,
    write_scenario,
    write_schedule,
)
from authsurge.rundir.meta import RunMeta, read_meta, write_meta

__all__ = [
    "FORMAT_VERSION",
    "META",
    "RAW_INPUTS",
    "RunMeta",
    "new_run_dir",
    "newest_raw_input",
    "read_meta",
    "write_json_atomic",
    "write_meta",
    "write_scenario",
    "write_schedule",
]
