"""The first real slice: a surge run against the embedded target, recorded and analyzed."""

from __future__ import annotations

import json

from authsurge.cli import main
from tests.support.runner import records, run_scenario

WEB = """
journeys:
  web: {steps: [form_login, api, form_logout]}
traffic:
  shape: {kind: spike, baseline: 2, multiplier: 3, start_s: 2, rise_s: 2, hold_s: 4, decay_s: 1, tail_s: 1}
run: {duration_s: 10, drain_s: 3}
"""


def test_surge_run_logs_in_and_out_and_analyze_writes_the_capacity_curve(tmp_path, target, capsys):
    result = run_scenario(tmp_path, target.base_url, WEB, pids=target.pids())
    assert result.status == "complete"
    run_dir = result.run_dir
    meta = json.loads((run_dir / "meta.json").read_text())
    assert meta["format_version"] == 2 and meta["status"] == "complete"
    assert meta["population"] is None and (records(run_dir)["cohort"] == "surge").all()
    assert meta["target"]["base_url"] == target.base_url
    assert meta["harness"]["cpu_count"] >= 1 and meta["traffic"]["planned_journeys"] > 20
    rows = records(run_dir)
    steps = rows[rows["kind"] == "request"].groupby(["step", "outcome"]).size()
    assert steps[("login.submit", "ok")] >= 20
    assert steps[("logout", "ok")] >= 20
    assert steps[("api.call", "ok")] >= 20
    journeys = rows[rows["kind"] == "journey"]
    assert (journeys["outcome"] == "ok").mean() > 0.95
    assert (run_dir / "scenario.yaml").exists() and (run_dir / "schedule.parquet").exists()
    assert (run_dir / "locust" / "stats_stats.csv").exists()
    assert (run_dir / "locust" / "stats_stats_history.csv").exists()
    resources = __import__("pyarrow.parquet", fromlist=["x"]).read_table(run_dir / "resources.parquet").to_pandas()
    assert (resources["source"] == "target").sum() >= 5

    code = main(["analyze", str(run_dir)])
    out = capsys.readouterr().out
    assert code == 0
    assert (run_dir / "plots" / "capacity.png").stat().st_size > 10_000
    assert "login.submit" in out
