"""Scenario text and run-directory readers shared by the runner tests."""

from __future__ import annotations

import json
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from authsurge import run as runner
from authsurge.scenario import parse_scenario


def scenario_text(base_url: str, body: str, name: str = "t") -> str:
    return f'name: {name}\ntarget: {{base_url: "{base_url}"}}\n' + textwrap.dedent(body)


def run_scenario(tmp_path: Path, base_url: str, body: str, pids: list[int] | None = None, **opts):
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "scenario.yaml"
    path.write_text(scenario_text(base_url, body))
    scenario = parse_scenario(path.read_text(), path)
    return runner.run(runner.RunOptions(scenario=scenario, out_root=tmp_path / "runs", progress=False,
                                        target_pids=pids or [], **opts))


def records(run_dir: Path) -> pd.DataFrame:
    return pq.read_table(Path(run_dir) / "requests").to_pandas()


def started_at(runs: Path, timeout_s: float = 60.0, alive: Callable[[], bool] = lambda: True) -> float:
    """The start (epoch s) of the run being written under `runs`, from its meta.json, which
    the runner writes when the run's clock starts; waits for it (start-up time varies)."""
    deadline = time.time() + timeout_s
    while time.time() < deadline and alive():
        for meta in Path(runs).glob("*/meta.json"):
            try:
                return float(json.loads(meta.read_text())["started_at"])
            except (ValueError, KeyError, OSError):
                pass  # being written
        time.sleep(0.05)
    raise AssertionError(f"no run started under {runs} within {timeout_s:.0f} s")
