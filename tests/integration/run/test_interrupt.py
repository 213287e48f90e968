"""Ctrl-C stops the load within 2 s and leaves a complete, analyzable run directory."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

from authsurge.cli import main
from tests.support.runner import records, scenario_text, started_at

LONG = """
journeys:
  web: {steps: [form_login, api, form_logout]}
traffic:
  shape: {kind: steady, rate: 5}
run: {duration_s: 60, drain_s: 5}
"""


def test_ctrl_c_mid_run_leaves_an_analyzable_run_directory(tmp_path, target, capsys):
    path = tmp_path / "long.yaml"
    path.write_text(scenario_text(target.base_url, LONG))
    proc = subprocess.Popen([sys.executable, "-m", "authsurge", "run", str(path), "--out", str(tmp_path / "runs"),
                             "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # Ctrl-C 4 s into the run itself (start-up time varies with the machine's load)
        time.sleep(max(0.0, started_at(tmp_path / "runs", alive=lambda: proc.poll() is None) + 4.0 - time.time()))
        sent = time.time()
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
        took = time.time() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, out
    run_dir = next((tmp_path / "runs").iterdir())
    meta = json.loads((run_dir / "meta.json").read_text())
    assert meta["status"] == "interrupted"
    rows = records(run_dir)
    stopped = rows["t_start"].max()
    assert stopped < sent + 2.0, "load went on for more than 2 s after Ctrl-C"
    assert took < 15
    assert ((rows["kind"] == "journey") & (rows["outcome"] == "ok")).sum() >= 10
    assert not list((run_dir / "requests").glob("*.arrows")), "the shard was not compacted"
    assert main(["analyze", str(run_dir), "--no-plots"]) in (0, 1)

