"""Bad input gets one clear line and exit code 2, never a traceback; nothing is run: the
cases that reach the network (a refused connect) or start `python -m authsurge`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import GOOD, closed_port, run_cli, write


def test_unreachable_target_says_which_url_and_runs_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("AUTHSURGE_PASSWORD", "pw-for-test")
    port = closed_port()
    path = write(tmp_path, GOOD.replace("PORT", str(port)))
    out_dir = tmp_path / "runs"
    code, out = run_cli(["run", str(path), "--out", str(out_dir), "--no-progress"], capsys)
    assert code == 2
    assert f"http://127.0.0.1:{port}" in out and "nothing was run" in out
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_usage_error_exits_2_with_argparse_message():
    proc = subprocess.run([sys.executable, "-m", "authsurge", "run"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "usage:" in proc.stderr and "Traceback" not in proc.stderr


def test_help_lists_the_commands_and_exit_codes():
    proc = subprocess.run([sys.executable, "-m", "authsurge", "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    for word in ("run", "validate", "analyze", "plan", "runs", "target", "demo", "exit codes"):
        assert word in proc.stdout


@pytest.mark.parametrize("args", [
    ["plan", "{tmp}"],  # not a run directory
    ["plan", "{tmp}", "--peak", "lots"],
    ["plan", "{tmp}", "--headroom", "-50%"],
    ["analyze", "{tmp}", "--peak", "0/s"],
])
def test_plan_and_sizing_bad_input_exits_2_with_a_message(args: list[str], tmp_path: Path) -> None:
    argv = [a.format(tmp=tmp_path) for a in args]
    proc = subprocess.run([sys.executable, "-m", "authsurge", *argv], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "error" in proc.stderr
