"""The open-model surge under plain `locust -f` (locustfiles/scenario.py and
appstore_surge.py): headless, `--processes 2`, and the web UI's Stop and New test, each
writing run directories `authsurge analyze` reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import requests

from authsurge.cli import main
from authsurge.run.master import free_port
from tests.support.runner import scenario_text

ROOT = Path(__file__).resolve().parents[3]
LOCUSTFILE = str(ROOT / "locustfiles" / "scenario.py")
BODY = """
credentials: {count: 50}
journeys:
  web_login: {steps: [form_login, api, form_logout]}
traffic: {model: open, shape: {kind: steady, rate: 4}}
run: {duration_s: 6, drain_s: 2}
"""


def locust(tmp: Path, base_url: str, *args: str, body: str = BODY,
           timeout: float = 120) -> subprocess.CompletedProcess[str]:
    scenario = tmp / "s.yaml"
    scenario.write_text(scenario_text(base_url, body, name="hosted"))
    return subprocess.run(
        [sys.executable, "-m", "locust", "-f", LOCUSTFILE, "--scenario", str(scenario),
         "--runs-dir", str(tmp / "runs"), "--exit-code-on-error", "0", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=dict(os.environ))


def run_dirs(tmp: Path) -> list[Path]:
    return sorted(p.parent for p in (tmp / "runs").glob("*/meta.json"))


def planned_journeys(run_dir: Path) -> int:
    return int(json.loads((run_dir / "meta.json").read_text())["traffic"]["planned_journeys"])


def test_headless_plain_locust_runs_the_open_model_plan_into_one_run_directory(
    target, target_env, tmp_path  # noqa: ANN001
) -> None:
    done = locust(tmp_path, target.base_url, "--headless")
    assert done.returncode == 0, done.stderr[-3000:]
    [run_dir] = run_dirs(tmp_path)
    meta = json.loads((run_dir / "meta.json").read_text())
    assert meta["status"] == "complete" and meta["traffic"]["model"] == "open"
    rows = pq.read_table(run_dir / "requests").to_pandas()
    journeys = rows[rows["kind"] == "journey"]
    # every planned arrival started, on its schedule (t_intended: the open model)
    assert len(journeys) == planned_journeys(run_dir) > 10
    assert journeys["t_intended"].notna().all()
    assert (journeys["outcome"] == "ok").all(), journeys["reason"].unique()
    assert main(["analyze", str(run_dir), "--no-plots"]) == 0
    assert target_env.password not in done.stdout + done.stderr


def test_under_processes_two_each_worker_drives_its_slice_into_one_run_directory(
    target, target_env, tmp_path  # noqa: ANN001
) -> None:
    done = locust(tmp_path, target.base_url, "--headless", "--processes", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    [run_dir] = run_dirs(tmp_path)
    shards = sorted(p.name for p in (run_dir / "requests").iterdir())
    assert shards == ["worker-0.parquet", "worker-1.parquet"], shards
    meta = json.loads((run_dir / "meta.json").read_text())
    assert meta["status"] == "complete" and meta["harness"]["workers"] == 2
    rows = pq.read_table(run_dir / "requests").to_pandas()
    journeys = rows[rows["kind"] == "journey"]
    assert len(journeys) == planned_journeys(run_dir)  # no arrival lost, none twice
    assert set(journeys["worker"]) == {"worker-0", "worker-1"}
    assert main(["analyze", str(run_dir), "--no-plots"]) == 0


def test_rate_scale_auto_and_a_bad_scenario_are_refused_with_exit_2(
    target, tmp_path  # noqa: ANN001
) -> None:
    done = locust(tmp_path, target.base_url, "--headless", "--rate-scale", "auto")
    assert done.returncode == 2 and "authsurge run" in done.stderr, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    bad = locust(tmp_path, target.base_url, "--headless", body="journeys: {x: {steps: [nope]}}\n")
    assert bad.returncode == 2 and "--scenario" in bad.stderr and "Traceback" not in bad.stderr
    assert not run_dirs(tmp_path)


def test_stop_then_new_test_in_the_web_ui_makes_a_second_run_directory(
    target, target_env, tmp_path  # noqa: ANN001
) -> None:
    port = free_port("127.0.0.1")
    scenario = tmp_path / "s.yaml"
    scenario.write_text(scenario_text(target.base_url, BODY.replace("duration_s: 6",
                                                                    "duration_s: 60"), "hosted"))
    web = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "locust", "-f", LOCUSTFILE, "--scenario", str(scenario),
         "--runs-dir", str(tmp_path / "runs"), "--web-host", "127.0.0.1", "--web-port", str(port)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        page = until(lambda: requests.get(web + "/", timeout=2).text)
        assert '"hide_common_options": true' in page  # no user count, Edit disabled
        assert "/authsurge" in requests.get(web + "/authsurge", timeout=5).text
        for n in (1, 2):
            assert requests.post(web + "/swarm", data={}, timeout=10).json()["success"]
            until(lambda n=n: len(run_dirs(tmp_path)) == n and status(run_dirs(tmp_path)[-1]) == "running")
            until(lambda: requests.get(web + "/authsurge/live.json", timeout=2).json()["steps"])
            requests.post(web + "/stop", timeout=30)
            until(lambda: status(run_dirs(tmp_path)[-1]) == "interrupted")
        assert all(main(["analyze", str(d), "--no-plots"]) == 0 for d in run_dirs(tmp_path))
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def status(run_dir: Path) -> str:
    return str(json.loads((run_dir / "meta.json").read_text())["status"])


def until(probe, timeout_s: float = 60):  # noqa: ANN001, ANN201
    deadline = time.time() + timeout_s
    last: Exception | None = None
    while time.time() < deadline:
        try:
            value = probe()
            if value:
                return value
        except Exception as exc:  # not up yet
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting ({last})")
