"""What a run is asked to do (RunOptions) and what it leaves (RunResult)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from authsurge.rundir.meta import CalibrationInfo
from authsurge.scenario import Scenario


@dataclass
class RunOptions:
    scenario: Scenario
    out_root: Path = Path("runs")
    target_pids: list[int] = field(default_factory=list)
    rate_scale: float | None = None  # resolved trace scale (calibration)
    calibration: CalibrationInfo | None = None  # what sized the run (meta.json calibration)
    command: str = ""
    progress: bool = True
    start_delay_s: float = 0.5  # lets every greenlet get going before the first arrival
    expect_workers: int | None = None  # remote workers to wait for (`--master`)
    master_bind: tuple[str, int] = ("127.0.0.1", 0)
    web: tuple[str, int] | None = None  # --web: Locust's web UI and the live page
    metrics: tuple[str, int] | None = None  # --metrics: /metrics for Prometheus


@dataclass
class RunResult:
    run_dir: Path
    status: str  # complete | interrupted | aborted | failed
    meta: dict[str, Any]
