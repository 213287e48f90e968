"""A distributed run across hosts: the target, the master and two workers each in a network
namespace of its own, joined by a bridge on 169.254.77.0/24 (tests/support/netns.py).

The master finds the target's processes through its PID file (their CPU is sampled from
another namespace; a port cannot name them there). Nothing here touches 127.0.0.1: each
namespace's sockets say so (`ss -tan`), and the target's access log names only the workers
(and the checks that it answers). The run directory holds every worker's records.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from authsurge.target.layout import PID_FILE
from authsurge.target.process import stop_target
from tests.support.netns import NETWORK, TestNetwork, ip_binary
from tests.support.runner import started_at
from tests.support.target import TEST_HASHER_ITERATIONS

HOSTS = ["target", "master", "worker0", "worker1"]
PORT, MASTER_PORT = 8000, 5557
RATE, DURATION_S = 8, 8
SCENARIO = """\
name: multi_host
target:
  base_url: "http://{target}:{port}"
  allowed_hosts: ["{target}"]
  pid_file: "{pid_file}"
credentials: {{count: 20}}
journeys:
  web: {{steps: [form_login, api]}}
traffic:
  shape: {{kind: steady, rate: {rate}}}
  arrivals: uniform
run: {{duration_s: {duration}, drain_s: 3}}
"""
AUTHSURGE = [sys.executable, "-m", "authsurge"]


@pytest.fixture()
def network():
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root (CAP_NET_ADMIN)")
    with TestNetwork(HOSTS) as net:
        yield net


def loopback(address: str) -> bool:
    return address.startswith(("127.", "[::1]", "::1", "[::ffff:127."))


def on_links(address: str) -> bool:
    """An address:port on the test's own links."""
    return ipaddress.ip_address(address.rsplit(":", 1)[0].strip("[]")) in NETWORK


def test_a_surge_across_four_namespaces_uses_only_their_links_and_lands_in_one_run_directory(
    network: TestNetwork, seeded_data_dir: Path, target_env, tmp_path: Path
) -> None:
    net, ip = network, network.address
    access_log = tmp_path / "access.log"  # gunicorn's: the client's address first
    serve = net.run("target", [*AUTHSURGE, "target", "serve", "--host", ip("target"), "--port", str(PORT),
                               "--data-dir", str(seeded_data_dir), "--users", "20", "--workers", "1",
                               "--threads", "4", "--hasher-iterations", str(TEST_HASHER_ITERATIONS),
                               "--access-log", str(access_log)])
    try:
        assert serve.returncode == 0, serve.stderr
        scenario = tmp_path / "multi_host.yaml"
        scenario.write_text(SCENARIO.format(target=ip("target"), port=PORT, rate=RATE, duration=DURATION_S,
                                            pid_file=seeded_data_dir / PID_FILE))
        runs = tmp_path / "runs"
        master = net.popen("master", [*AUTHSURGE, "run", str(scenario), "--master", "--expect-workers", "2",
                                      "--master-bind", f"{ip('master')}:{MASTER_PORT}", "--out", str(runs),
                                      "--no-progress"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for worker in ("worker0", "worker1"):
            net.popen(worker, [*AUTHSURGE, "worker", "--master-host", ip("master"),
                               "--master-port", str(MASTER_PORT)],
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started = started_at(runs, alive=lambda: master.poll() is None)
        time.sleep(max(0.0, started + DURATION_S / 2 - time.time()))
        # mid-run, for two seconds: a journey's connection is open only while it runs
        sockets: dict[str, set[tuple[str, str, str]]] = {host: set() for host in HOSTS}
        for _ in range(8):
            for host in HOSTS:
                sockets[host].update(net.connections(host))
            time.sleep(0.25)
        output, _ = master.communicate(timeout=DURATION_S + 60)
        assert master.returncode == 0, output
    finally:
        stop_target(seeded_data_dir)

    # every connection in every namespace is on the test's links, none on loopback
    for host, rows in sockets.items():
        assert rows, f"no TCP socket in {host}'s namespace mid-run"
        assert not [r for r in rows if loopback(r[1]) or loopback(r[2])], (host, rows)
        outside = [r for r in rows if r[0] != "LISTEN" and not (on_links(r[1]) and on_links(r[2]))]
        assert not outside, (host, outside)
    master_at, target_at = f"{ip('master')}:{MASTER_PORT}", f"{ip('target')}:{PORT}"
    peers_of_master = {r[2].rsplit(":", 1)[0] for r in sockets["master"]
                       if r[0] == "ESTAB" and r[1] == master_at}
    assert peers_of_master == {ip("worker0"), ip("worker1")}, sockets["master"]
    for worker in ("worker0", "worker1"):
        peers = {r[2] for r in sockets[worker] if r[0] != "LISTEN"}
        assert master_at in peers and target_at in peers, (worker, sockets[worker])
    # a journey's connection lives milliseconds: who reached the target, its access log says
    clients = {line.split()[0] for line in access_log.read_text().splitlines() if line.strip()}
    # besides the workers: the master's check that it answers, and its own at its start
    assert {ip("worker0"), ip("worker1")} <= clients <= {ip(host) for host in HOSTS}, clients

    # one run directory, every worker's records in it, the target's CPU from its PID file
    (run_dir,) = runs.iterdir()
    shards = sorted(p.name for p in (run_dir / "requests").iterdir())
    assert shards == ["worker-0.parquet", "worker-1.parquet"], shards
    rows = pq.read_table(run_dir / "requests").to_pandas()
    journeys = rows[rows["kind"] == "journey"]
    assert len(journeys) == RATE * DURATION_S
    assert (journeys["outcome"] == "ok").all(), journeys[journeys["outcome"] != "ok"]["reason"].tolist()
    half = RATE * DURATION_S // 2  # arrival i goes to worker i mod 2
    assert journeys.groupby("worker").size().to_dict() == {"worker-0": half, "worker-1": half}
    requests = rows[rows["kind"] == "request"]
    assert len(requests) == 3 * len(journeys) and not requests.duplicated(["journey_id", "step"]).any()
    resources = pd.read_parquet(run_dir / "resources.parquet")
    target_cpu = resources[resources["source"] == "target"]["cpu_percent"]
    assert len(target_cpu) >= DURATION_S - 2 and target_cpu.max() > 0


def test_namespaces_left_by_a_test_process_that_is_gone_are_removed_and_no_others(network) -> None:
    from tests.support.netns import namespaces, remove_stale

    dead_pid = next(pid for pid in range(os.getpid() + 50_000, 4_194_304) if not os.path.exists(f"/proc/{pid}"))
    stale, live = f"authsurge-{dead_pid}-stale", f"authsurge-{os.getpid()}-keep"
    try:
        for name in (stale, live):
            subprocess.run([ip_binary(), "netns", "add", name], check=True)
        assert remove_stale() == [stale]
        left = namespaces()
        assert stale not in left and live in left and network.name("target") in left
    finally:
        for name in (stale, live):
            subprocess.run([ip_binary(), "netns", "del", name], capture_output=True)
