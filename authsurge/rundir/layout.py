"""Where a run directory's files live, and the one FORMAT_VERSION (see authsurge.rundir)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

FORMAT_VERSION = 2  # the run-directory format written here (rundir.meta.READABLE: read)
META = "meta.json"
# what a run's derived files (analysis.json, plots/, digest/) are computed from
RAW_INPUTS = (
    "meta.json",
    "schedule.parquet",
    "resources.parquet",
    "resources.arrows",
    "metrics.parquet",  # scraped counters: the cost model fits them
)


def new_run_dir(root: Path, scenario_name: str, started: float | None = None) -> Path:
    """Create runs/<UTC timestamp>-<scenario>/ (with a suffix if that exists already)."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(started or time.time()))
    base = Path(root) / f"{stamp}-{scenario_name}"
    path, n = base, 1
    while True:
        try:
            path.mkdir(parents=True)
            break
        except FileExistsError:
            n += 1
            path = base.with_name(f"{base.name}-{n}")
    (path / "requests").mkdir()
    (path / "locust").mkdir()
    return path


def newest_raw_input(run_dir: Path) -> float:
    """mtime of the newest raw input of the run (what every derived file is computed from)."""
    paths = [Path(run_dir) / name for name in RAW_INPUTS]
    requests = Path(run_dir) / "requests"
    if requests.is_dir():
        paths += list(requests.iterdir())
    return max((p.stat().st_mtime for p in paths if p.exists()), default=0.0)


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(
        json.dumps(data, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8"
    )
    os.replace(tmp, path)


def write_scenario(run_dir: Path, public: dict[str, Any]) -> None:
    (Path(run_dir) / "scenario.yaml").write_text(
        yaml.safe_dump(public, sort_keys=False), encoding="utf-8"
    )


def write_schedule(run_dir: Path, table: dict[str, list[Any]]) -> None:
    schema = pa.schema(
        [("t", pa.float64()), ("journey", pa.string()), ("planned_rate", pa.float64())]
    )
    pq.write_table(pa.table(table, schema=schema), Path(run_dir) / "schedule.parquet")
