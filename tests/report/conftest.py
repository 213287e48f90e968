"""Fixtures for the report tests: headless Chromium, and planted runs with SLOs and a baseline."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from authsurge.report.chromium import find_chromium
from tests.planted import copy_run

# one breached (on the journey, so no step's knee rule changes), one met, one that names
# no step and so is not judged
SLOS = ["login_api error_rate < 1%", "api.call p95 < 100ms", "nosuch.step p95 < 5ms"]
SHORTFALL = [{"start": 1_700_000_120.0, "end": 1_700_000_121.0, "planned": 100, "started": 80,
              "dropped": 15, "late": 5, "max_lag_s": 0.4}]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def chromium() -> str:
    """A Chromium binary; installed with apt-get when missing (root only), else the test skips."""
    found = find_chromium()
    if found:
        return found
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.skip("Chromium is not installed and cannot be installed here "
                    "(needs root and apt-get: apt-get install chromium)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env, check=False)
        except subprocess.TimeoutExpired:
            pytest.skip(f"could not install Chromium: {' '.join(cmd)} timed out")
        if proc.returncode != 0:
            tail = " ".join(proc.stderr.strip().splitlines()[-2:])
            pytest.skip(f"could not install Chromium: {' '.join(cmd)} failed: {tail}")
    found = find_chromium()
    if not found:
        pytest.skip("apt-get installed chromium but no chromium binary is on PATH")
    return found


@pytest.fixture(scope="session")
def report_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The planted 30%-slower-login run, with SLOs, a shortfall window and a command."""
    dest = tmp_path_factory.mktemp("report") / "20231114T221320Z-synthetic"
    meta_traffic = {"model": "open", "shape": "step_ramp", "arrivals": "poisson",
                    "planned_journeys": 9_000, "started_journeys": 8_900, "dropped_journeys": 83,
                    "shortfall": SHORTFALL, "on_schedule": False}
    return copy_run("slower_login", tmp_path_factory, dest, slos=SLOS, traffic=meta_traffic,
                    command="authsurge run scenarios/synthetic.yaml --set traffic.shape.rate=100",
                    target={"base_url": "http://127.0.0.1:8000", "version": "2.4.0", "pids": [1]})


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
