"""A real run of `authsurge run --web --metrics` against the session's target, watched
from Debian's Chromium through chromedriver (Selenium), installed when missing."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from authsurge.report.chromium import find_chromium
from authsurge.run.master import free_port
from tests.support.debian import installed
from tests.support.runner import scenario_text

ROOT = Path(__file__).resolve().parents[3]
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture(scope="session")
def chromedriver() -> str:
    installed("chromium", find_chromium)
    return installed("chromium-driver",
                     lambda: CHROMEDRIVER if os.path.exists(CHROMEDRIVER) else shutil.which("chromedriver"))


@dataclass
class LiveRun:
    proc: subprocess.Popen[str]
    runs: Path
    web: str  # http://127.0.0.1:PORT
    metrics: str

    def run_dir(self, timeout_s: float = 60) -> Path:
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            found = [p.parent for p in self.runs.glob("*/meta.json")]
            if found:
                return found[0]
            time.sleep(0.2)
        raise AssertionError(f"no run directory under {self.runs}")


@contextlib.contextmanager
def start_live_run(
    tmp: Path, base_url: str, body: str, web: bool, extra: list[str] | None = None
) -> Iterator[LiveRun]:
    """`authsurge run` in its own process, with --metrics (and --web), on free loopback ports."""
    scenario = tmp / "live.yaml"
    scenario.write_text(scenario_text(base_url, body, name="live"))
    web_port, metrics = free_port("127.0.0.1"), free_port("127.0.0.1")
    cmd = [sys.executable, "-m", "authsurge", "run", str(scenario), "--out", str(tmp / "runs"),
           "--no-progress", "--metrics", f"127.0.0.1:{metrics}"]
    if web:
        cmd += ["--web", f"127.0.0.1:{web_port}"]
    cmd += extra or []
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    live = LiveRun(proc, tmp / "runs", f"http://127.0.0.1:{web_port}",
                   f"http://127.0.0.1:{metrics}")
    try:
        yield live
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def wait_for(url: str, timeout_s: float = 60, proc: subprocess.Popen[str] | None = None) -> None:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            output = proc.stdout.read() if proc.stdout else ""
            raise AssertionError(f"the run exited ({proc.returncode}) before {url} answered:\n"
                                 f"{output[-3000:]}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout_s:.0f} s")
