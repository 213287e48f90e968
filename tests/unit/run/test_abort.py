"""The abort switch judges its conditions over Locust's own request statistics."""

from __future__ import annotations

from locust.stats import RequestStats

from authsurge.run.abort import AbortSwitch
from authsurge.scenario.abort import AbortCondition

T0 = 1_700_000_000.0


def feed(stats: RequestStats, name: str, n: int, ms: float, failed: bool) -> None:
    """n requests as Locust's request event logs them (a failure counts as a request and
    as a failure)."""
    for _ in range(n):
        stats.log_request("GET", name, ms, 0)
        if failed:
            stats.log_error("GET", name, "timeout")


def run(switch: AbortSwitch, stats: RequestStats, second: dict[int, list[tuple]], until: int):
    """Feed each second's requests, tick every 0.1 s; the first abort and when it came."""
    for tenth in range(until * 10):
        now = T0 + tenth / 10
        if tenth % 10 == 0:
            for name, n, ms, failed in second.get(tenth // 10, []):
                feed(stats, name, n, ms, failed)
        tripped = switch.tick(now)
        if tripped is not None:
            return tripped, now - T0
    return None, None


def test_an_error_rate_held_over_the_window_stops_the_run_and_not_before() -> None:
    stats = RequestStats()
    switch = AbortSwitch([AbortCondition.parse("error_rate > 50% for 3s")], stats)
    # 5 s of health, then every request fails
    plan = {s: [("api", 20, 10.0, s >= 5)] for s in range(20)}
    tripped, at = run(switch, stats, plan, 20)
    assert tripped is not None and tripped.condition == "error_rate > 50% for 3s"
    # the last 3 s hold more failures than successes from 6 s on (seconds 4, 5 and 6: two
    # of three fail); never during the healthy 5 s
    assert 6 <= at < 7
    assert "error_rate" in tripped.measured and "over the last 3 s" in tripped.measured


def test_a_step_p95_is_judged_on_that_step_alone() -> None:
    stats = RequestStats()
    switch = AbortSwitch([AbortCondition.parse("login.submit p95 > 1s for 2s")], stats)
    plan = {s: [("api", 50, 5_000.0, False), ("login.submit", 20, 300.0 if s < 6 else 4_000.0, False)]
            for s in range(15)}
    tripped, at = run(switch, stats, plan, 15)
    assert tripped is not None and 6 <= at < 7  # the slow api never counted
    assert tripped.measured.startswith("p95 4,000 ms")


def test_a_healthy_run_and_a_window_with_too_few_requests_never_stop() -> None:
    stats = RequestStats()
    switch = AbortSwitch([AbortCondition.parse("error_rate > 10% for 2s")], stats)
    plan = {s: [("api", 20, 10.0, False)] for s in range(10)}
    plan |= {s: [("api", 1, 10.0, True)] for s in range(10, 20)}  # all fail, but 1 a second
    assert run(switch, stats, plan, 20) == (None, None)


def test_conditions_on_several_steps_and_windows_are_each_judged_over_their_own() -> None:
    stats = RequestStats()
    conditions = ["api error_rate > 50% for 2s", "login.submit p95 > 1s for 6s", "error_rate > 90% for 4s"]
    switch = AbortSwitch([AbortCondition.parse(c) for c in conditions], stats)
    # login.submit is slow from 4 s: its 6-s window is first full at 6 s, half slow by then
    # (p95 above 1 s); api fails from 8 s and the whole run's only from 10 s: later
    plan = {s: [("api", 20, 10.0, s >= 8), ("login.submit", 10, 2_000.0 if s >= 4 else 100.0, False)]
            for s in range(15)}
    tripped, at = run(switch, stats, plan, 15)
    assert tripped is not None and tripped.condition == "login.submit p95 > 1s for 6s"
    assert 6 <= at < 7
