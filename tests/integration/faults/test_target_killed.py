"""The target dies mid-run (SIGKILL of the gunicorn master and workers) and comes back on
the same port: the harness keeps going, the gap is `connection` errors, ok before and after."""

from __future__ import annotations

import os
import signal
import threading
import time

import pyarrow.parquet as pq

from authsurge.target import TargetOptions, TargetProcess, start_target
from tests.support.faults.checks import assert_outage_on_timeline, check_run
from tests.support.runner import run_scenario
from tests.support.target import TEST_HASHER_ITERATIONS, seed_data_dir

WEB = """
credentials: {count: 20}
journeys:
  web: {steps: [form_login, api, form_logout]}
traffic:
  shape: {kind: steady, rate: 4}
  arrivals: uniform
run: {duration_s: 14, drain_s: 3}
"""
STEPS = {"web": ["login.form", "login.submit", "api.call", "logout"]}
KILL_AT_S = 4.0
DOWN_S = 2.0


def options(data_dir, port: int = 0) -> TargetOptions:
    return TargetOptions(port=port, users=20, workers=1, threads=4, hasher_iterations=TEST_HASHER_ITERATIONS,
                         data_dir=data_dir, startup_timeout_s=30)


def test_target_killed_and_restarted_mid_run(tmp_path, target, target_env):
    data_dir = tmp_path / "target"
    data_dir.mkdir()
    seed_data_dir(target.data_dir, data_dir)
    first = start_target(options(data_dir), log=lambda line: None)
    restarted: list[TargetProcess] = []
    times: dict[str, float] = {}

    def outage() -> None:
        time.sleep(KILL_AT_S)
        pids = first.pids()  # master first, then its workers: all killed by PID
        times["kill"] = time.time()
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        first.stop()  # reaps the master; the workers were killed above
        time.sleep(DOWN_S)
        restarted.append(start_target(options(data_dir, port=first.port), log=lambda line: None))
        times["up"] = time.time()

    try:
        killer = threading.Thread(target=outage, daemon=True)
        killer.start()
        result = run_scenario(tmp_path, first.base_url, WEB)
        killer.join(timeout=30)
        assert "up" in times, "the target did not come back"
        assert restarted[0].port == first.port
    finally:
        for proc in restarted:
            proc.stop()
        first.stop()

    checked = check_run(result, STEPS)
    failed = checked.journeys[checked.journeys["outcome"] != "ok"]
    assert len(failed) >= 4  # ~2-3 s down at 4 arrivals/s
    assert set(failed["outcome"]) == {"connection"}
    assert set(checked.failed_requests["outcome"]) == {"connection"}
    # new arrivals in the gap fail on their first request, the refused connect says so
    refused = checked.failed_requests[checked.failed_requests["step"] == "login.form"]
    assert refused["reason"].str.startswith("connection refused by 127.0.0.1:").sum() >= 3
    assert_outage_on_timeline(checked, times["kill"], times["up"], "login.form", "connection")
    # the analysis names the class and the reason of the outage
    login_form = checked.analysis.steps["login.form"]
    assert login_form["errors_by_class"].get("connection", 0) == len(refused)
    assert any("connection refused" in e["reason"] for e in login_form["top_errors"])
    # target CPU is sampled again after the restart (new PIDs, found by the port again)
    res = pq.read_table(result.run_dir / "resources.parquet").to_pandas()
    target_rows = res[res["source"] == "target"]
    after = target_rows[target_rows["t"] > times["up"] + 1.5]
    assert len(after) >= 3 and (after["processes"] >= 2).all()  # gunicorn master + worker
    assert (target_rows[target_rows["t"] < times["kill"]]["processes"] >= 2).all()
