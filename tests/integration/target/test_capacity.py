"""`--login-capacity N`: a known login capacity that later analysis tests must find.

The real thing, checked by driving ~2N logins/s at a real two-worker target for a few
seconds (the slot arithmetic, with a fake clock: tests/unit/target/test_capacity.py).
"""

from __future__ import annotations

import secrets
import string
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import requests

from authsurge.target.options import TargetOptions


def _csrf_secret() -> str:
    # Django accepts its unmasked 32-character secret both as the cookie and as the form
    # token, so each login is one POST and the driver does not compete for CPU with GETs.
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))


def drive_logins(base_url: str, password: str, rate: float, duration_s: float, users: int
                 ) -> list[tuple[float, float, int]]:
    """Open-model login POSTs at `rate`/s; (sent, done, status) for each."""
    token = _csrf_secret()
    count = int(rate * duration_s)
    start = time.monotonic() + 0.3

    def one(i: int) -> tuple[float, float, int]:
        at = start + i / rate
        time.sleep(max(0.0, at - time.monotonic()))
        sent = time.monotonic()
        r = requests.post(f"{base_url}/accounts/login/", cookies={"csrftoken": token}, allow_redirects=False,
                          timeout=10, data={"csrfmiddlewaretoken": token, "username": f"user{i % users + 1:04d}",
                                            "password": password})
        return sent, time.monotonic(), r.status_code

    with ThreadPoolExecutor(max_workers=64) as pool:
        return list(pool.map(one, range(count)))


def test_login_capacity_holds_successes_at_n_per_second(target_factory, target_env):
    capacity = 20.0
    queue = TargetOptions(login_capacity=capacity).queue  # the default: N checks may wait
    # a waiting check holds a thread: room for the whole queue in every worker (the kernel
    # may hand one worker most connections), and the API in its own pool behind the proxy
    target = target_factory(login_capacity=capacity, workers=2, threads=4 + queue,
                            topology="split")
    queue_wait = queue / capacity  # the longest a password check may wait
    api_latencies: list[float] = []

    def probe_api() -> None:  # the rest of the target must stay responsive meanwhile
        for _ in range(6):
            time.sleep(0.4)
            t0 = time.monotonic()
            requests.get(f"{target.base_url}/api/me", timeout=10)
            api_latencies.append(time.monotonic() - t0)

    # warm every worker thread up first (DB connection, templates): slow first requests
    # would bunch the early completions and tilt a few-second measurement
    drive_logins(target.base_url, target_env.password, 2 * capacity, 0.4, users=20)
    time.sleep(0.6)  # let the queue empty before the measured run

    with ThreadPoolExecutor(max_workers=1) as side:
        probe = side.submit(probe_api)
        results = drive_logins(target.base_url, target_env.password, 2 * capacity, 3.0, users=20)
        probe.result()

    ok = sorted(done for _, done, status in results if status == 302)
    refused = [done - sent for sent, done, status in results if status == 503]
    other = [status for _, _, status in results if status not in (302, 503)]
    assert not other
    # slots are 1/N apart, so successes complete at N/s: the least-squares slope of
    # "successes so far" over time, without the first and last tenth (less sensitive to
    # jitter at the ends than first-to-last)
    cut = len(ok) // 10
    rate = float(np.polyfit(ok[cut:len(ok) - cut], np.arange(cut, len(ok) - cut), 1)[0])
    print(f"{len(ok)} ok, {len(refused)} refused, {rate:.2f} successes/s, "
          f"api max {max(api_latencies):.3f} s")
    assert rate == pytest.approx(capacity, rel=0.05), f"{rate:.2f} successes/s"
    # what the cap must refuse, from what the client really sent: over the sending span the
    # slots admit N/s, and the queue holds Q more; the rest is the excess (40 of 120 at 2N)
    sent = sorted(s for s, _, _ in results)
    excess = len(sent) - capacity * (sent[-1] - sent[0]) - queue
    assert excess >= 10, f"the client fell behind ({len(sent)} sent in {sent[-1] - sent[0]:.2f} s)"
    assert len(refused) >= 0.6 * excess, f"{len(refused)} refused of an excess of {excess:.0f}"
    # ... and a refused login hears so at once, not after waiting its turn in the queue
    assert float(np.median(refused)) < 0.25 and max(refused) < queue_wait
    # the API is not stuck behind the logins (that would cost it about the queue wait)
    assert float(np.median(api_latencies)) < 0.25 and max(api_latencies) < queue_wait
