"""locustfiles/closed_users.py works with plain `locust -f` (headless), against the real target."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

from tests.support.runner import scenario_text

ROOT = Path(__file__).resolve().parents[3]
WEB = """
credentials: {count: 50}
journeys:
  web: {steps: [form_login, api, form_logout]}
traffic:
  shape: {kind: steady, rate: 1}
"""


def test_plain_locust_runs_the_scenarios_journeys_by_step_name(tmp_path, target, target_env):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(scenario_text(target.base_url, WEB))
    env = {**os.environ, "AUTHSURGE_SCENARIO": str(scenario)}
    done = subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(ROOT / "locustfiles" / "closed_users.py"), "--headless",
         "-u", "2", "-r", "2", "-t", "4s", "--stop-timeout", "3", "--host", target.base_url,
         "--csv", str(tmp_path / "stats"), "--only-summary"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr[-2000:]
    with open(tmp_path / "stats_stats.csv", newline="") as f:
        rows = {row["Name"]: row for row in csv.DictReader(f)}
    for step in ("login.form", "login.submit", "api.call", "logout"):
        assert int(rows[step]["Request Count"]) >= 2, (step, rows.keys())
        assert int(rows[step]["Failure Count"]) == 0, rows[step]
    assert target_env.password not in done.stdout + done.stderr
