"""`authsurge run` is a release gate: a breached SLO makes a real run exit 1, and says which."""

from __future__ import annotations

import json

from authsurge.errors import ExitStatus
from tests.support.cli import run_cli, write
from tests.support.runner import scenario_text

GATED = """
journeys:
  web: {steps: [form_login, api]}
traffic:
  shape: {kind: steady, rate: 4}
  arrivals: uniform
slos:
  - "api.call p95 < 0.001ms"   # nothing on a network answers in a microsecond
  - "error_rate < 50%"
run: {duration_s: 3, drain_s: 3}
"""


def test_a_real_run_that_breaches_an_slo_exits_1_and_names_it(tmp_path, target, capsys):
    path = write(tmp_path, scenario_text(target.base_url, GATED))
    code, out = run_cli(["run", str(path), "--out", str(tmp_path / "runs"), "--no-progress"], capsys)
    assert code == ExitStatus.GATE_FAILED, out
    assert "FAILED api.call p95 < 0.001 ms" in out
    [run_dir] = (tmp_path / "runs").iterdir()
    slos = {s["slo"]: s["passed"] for s in json.loads((run_dir / "analysis.json").read_text())["slos"]}
    assert list(slos.values()).count(False) == 1 and True in slos.values()
