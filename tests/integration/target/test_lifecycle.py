"""Starting, reusing and stopping the target: no stray processes, clear errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest
import requests

from authsurge.errors import BadInput, ExitStatus
from authsurge.target import TargetOptions, start_target, stop_target, target_status
from authsurge.target.cli import main as target_cli
from authsurge.target.hash_cpu import read_hash_cpu

TIMEOUT = 10


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_all_gone(pids: list[int], timeout_s: float) -> list[int]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        alive = [p for p in pids if not gone(p)]
        if not alive:
            return []
        time.sleep(0.1)
    return [p for p in pids if not gone(p)]


def kill_leftovers(pids: list[int]) -> None:
    for pid in pids:
        try:
            psutil.Process(pid).kill()
        except psutil.Error:
            pass


def login_ok(base_url: str, username: str, password: str) -> bool:
    s = requests.Session()
    page = s.get(f"{base_url}/accounts/login/", timeout=TIMEOUT)
    token = page.text.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    r = s.post(f"{base_url}/accounts/login/", allow_redirects=False, timeout=TIMEOUT,
               data={"csrfmiddlewaretoken": token, "username": username, "password": password})
    return r.status_code == 302


def test_stop_leaves_no_process_behind(target_factory):
    proc = target_factory(workers=2)
    # /healthz answers as soon as one worker is up: the second may still be forking
    deadline = time.monotonic() + 10
    while len(pids := proc.pids()) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(pids) == 3 and pids[0] == proc.pid
    proc.stop()
    assert wait_all_gone(pids, 1.0) == []
    assert not (proc.data_dir / "target.pid").exists()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{proc.base_url}/healthz", timeout=2)


def test_restart_reuses_the_data_dir_and_adds_users(target_factory, target_env, tmp_path):
    # seeded from the session target's database, which holds user0001..user0050
    first = target_factory(users=50, data_dir=tmp_path)
    key = (tmp_path / "oidc_rsa.pem").read_bytes()
    assert login_ok(first.base_url, "user0050", target_env.password)
    assert not login_ok(first.base_url, "user0052", target_env.password)
    first.stop()

    second = target_factory(users=52, data_dir=tmp_path)
    assert login_ok(second.base_url, "user0052", target_env.password)
    assert (tmp_path / "oidc_rsa.pem").read_bytes() == key  # same signing key: old ID tokens stay valid
    marker = json.loads((tmp_path / "target.json").read_text())
    assert marker["users"] == 52 and marker["hasher_iterations"] == 1000


def test_the_workers_count_every_hash_and_its_cpu_and_a_restart_starts_from_zero(target_factory, target_env, tmp_path):
    proc = target_factory(workers=2, data_dir=tmp_path)
    # a wrong password and an unknown user cost one hash each, like a right one
    outcomes = [login_ok(proc.base_url, user, password) for user, password in
                [("user0001", target_env.password), ("user0002", target_env.password),
                 ("user0003", "not-the-password"), ("nobody", target_env.password)]]
    assert outcomes == [True, True, False, False]
    proc.stop()
    measured = read_hash_cpu(tmp_path)
    assert (measured.hashes, measured.workers) == (4, 2)
    assert measured.mean_ms > 0

    target_factory(workers=1, data_dir=tmp_path).stop()
    assert read_hash_cpu(tmp_path).hashes == 0


def test_second_target_on_the_same_data_dir_is_refused(target, target_env):
    with pytest.raises(BadInput, match="already running"):
        start_target(TargetOptions(port=0, data_dir=target.data_dir))


def test_cli_serve_status_stop_through_the_pid_file(target_env, seeded_data_dir, capsys):
    tmp_path = seeded_data_dir
    data_dir = str(tmp_path)
    try:
        assert target_cli(["serve", "--port", "0", "--data-dir", data_dir, "--users", "2",
                           "--workers", "1", "--hasher-iterations", "1000"]) == 0
        status = target_status(tmp_path)
        assert status.running and status.healthy and status.base_url.startswith("http://127.0.0.1:")
        pids = status.pids
        assert target_cli(["status", "--data-dir", data_dir]) == 0
        assert target_cli(["stop", "--data-dir", data_dir]) == 0
        assert wait_all_gone(pids, 1.0) == []
        assert target_cli(["status", "--data-dir", data_dir]) == ExitStatus.BAD_INPUT  # never 1
        out = capsys.readouterr().out
        assert "running at http://127.0.0.1:" in out and "not running" in out
        assert target_env.password not in out and target_env.client_secret not in out
    finally:
        stop_target(tmp_path)


def test_delay_slows_every_request_but_healthz(target_factory):
    slow = target_factory(delay_ms=300)

    def took(path: str) -> float:
        t0 = time.monotonic()
        requests.get(f"{slow.base_url}{path}", timeout=TIMEOUT)
        return time.monotonic() - t0

    # the best of three: one pause of a loaded machine must not look like the delay
    assert min(took("/healthz") for _ in range(3)) < 0.2
    assert min(took("/api/me") for _ in range(3)) >= 0.3


OWNER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from authsurge.target import TargetOptions, start_target
    t = start_target(TargetOptions(port=0, users=2, workers=1, hasher_iterations=1000,
                                   data_dir=Path(sys.argv[1])), log=lambda line: None)
    print(" ".join(map(str, t.pids())), flush=True)
    time.sleep(60)
""")


def test_target_stops_when_its_owner_is_killed(target_env, seeded_data_dir):
    """A test run killed with SIGKILL must not leave a target behind."""
    owner = subprocess.Popen([sys.executable, "-c", OWNER, str(seeded_data_dir)], stdout=subprocess.PIPE, text=True)
    pids: list[int] = []
    try:
        line = owner.stdout.readline()  # type: ignore[union-attr]
        pids = [int(p) for p in line.split()]
        assert pids, "the owner did not start a target"
        os.kill(owner.pid, signal.SIGKILL)
        owner.wait(timeout=5)
        assert wait_all_gone(pids, 10.0) == []
    finally:
        owner.kill()
        owner.wait(timeout=5)
        kill_leftovers(pids)
