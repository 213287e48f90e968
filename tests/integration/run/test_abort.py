"""run.abort_on stops a run against a target that is down: exit 1, the reason in meta.json,
and a run directory that is still analysed."""

from __future__ import annotations

import json
import subprocess
import sys

from authsurge.analysis import analyze_run
from tests.support.runner import records

DOWN = """
name: abort
target: {{base_url: "{base_url}", timeout_s: 0.5}}
flows:
  api: {{endpoints: [{{path: /api/me, expect_status: [401]}}]}}
journeys:
  probe: {{steps: [api]}}
traffic:
  shape: {{kind: steady, rate: 20}}
  arrivals: uniform
run: {{duration_s: 40, drain_s: 2, abort_on: ["error_rate > 50% for 3s", "api.call p50 > 400ms for 10s"]}}
"""


def test_a_target_that_fails_every_request_stops_the_run_within_its_window(tmp_path, target_factory) -> None:
    down = target_factory(delay_ms=2000, threads=32)  # every answer comes after the 0.5-s timeout
    path = tmp_path / "down.yaml"
    path.write_text(DOWN.format(base_url=down.base_url))
    proc = subprocess.run([sys.executable, "-m", "authsurge", "run", str(path), "--out", str(tmp_path / "runs"),
                           "--no-progress"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "aborted by run.abort_on 'error_rate > 50% for 3s'" in proc.stdout
    run_dir = next((tmp_path / "runs").iterdir())
    meta = json.loads((run_dir / "meta.json").read_text())
    assert meta["status"] == "aborted"
    assert meta["aborted"]["condition"] == "error_rate > 50% for 3s"
    assert meta["aborted"]["measured"].startswith("error_rate 100.0% over the last 3 s")
    rows = records(run_dir)
    requests = rows[rows["kind"] == "request"]
    assert len(requests) >= 20 and (requests["outcome"] == "timeout").mean() > 0.9
    failed = requests[requests["outcome"] != "ok"]
    # stopped within the window plus 2 s of the first failure, far before the planned 40 s
    first_failure = (failed["t_start"] + failed["latency_ms"] / 1000).min()
    assert meta["ended_at"] - first_failure <= 3 + 2
    analysis = analyze_run(run_dir)
    assert any("stopped early by run.abort_on 'error_rate > 50% for 3s'" in w for w in analysis.warnings)
