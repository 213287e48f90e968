"""The split topology: nginx on the public port, /api/ to the API pool, the rest to the
auth pool, all on one base URL; every process listed and stopped."""

from __future__ import annotations

import psutil
import requests

from authsurge.target import stop_target, target_status


def test_split_serves_the_api_from_its_own_pool_behind_the_proxy_on_one_base_url(target_factory):
    split = target_factory(topology="split", workers=1, threads=2)
    names = {pid: " ".join(psutil.Process(pid).cmdline()) for pid in split.pids()}
    assert any("nginx" in cmd for cmd in names.values())
    assert sum("gunicorn" in cmd for cmd in names.values()) >= 4  # two masters, two workers
    api = requests.get(f"{split.base_url}/api/me", timeout=10)
    assert api.status_code == 401 and api.headers["Server"].startswith("nginx")
    # the issuer names the public port, not a pool's own
    discovery = requests.get(f"{split.base_url}/o/.well-known/openid-configuration", timeout=10)
    assert discovery.json()["issuer"] == split.issuer
    # the API answers from the API pool: stop that pool and only /api/ fails
    [api_pool] = [c for c in split.companions if c.name == "api"]
    psutil.Process(api_pool.pid).terminate()
    psutil.Process(api_pool.pid).wait(timeout=10)
    assert requests.get(f"{split.base_url}/api/me", timeout=10).status_code == 502
    assert requests.get(f"{split.base_url}/healthz", timeout=10).status_code == 200


def test_stopping_a_split_target_by_its_data_dir_stops_the_proxy_and_both_pools(target_factory):
    split = target_factory(topology="split", workers=1, threads=2)
    pids = split.pids()
    assert sorted(target_status(split.data_dir).pids) == sorted(pids)
    assert stop_target(split.data_dir)
    gone = [p for p in pids if not psutil.pid_exists(p) or psutil.Process(p).status() == "zombie"]
    assert gone == pids
