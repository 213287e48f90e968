"""Connection resets and stalled answers during a window of the run, injected by a proxy
in front of the real embedded target (tests/support/faults/proxy.py)."""

from __future__ import annotations

import time

from tests.support.faults.checks import assert_outage_on_timeline, check_run
from tests.support.faults.scenarios import STEPS, RunWindow, run_faulty

WINDOW = (3.0, 6.0)  # s after the run's start: connections accepted then get the fault


def test_connections_reset_during_a_window_are_connection_errors_on_their_step(tmp_path, target, fault_proxy):
    proxy = fault_proxy("reset", upstream_port=target.port)
    window = RunWindow(tmp_path / "runs", [proxy], WINDOW)
    result = run_faulty(tmp_path, proxy.url, journeys={"web": ["form_login", "api"]}, rate=4)
    assert proxy.accepted["reset"] >= 8
    checked = check_run(result, STEPS)
    failed = checked.failed_requests
    # a person's browser opens its connection on the first request: that is where the reset lands
    assert set(failed["step"]) == {"login.form"} and set(failed["outcome"]) == {"connection"}
    assert failed["reason"].str.fullmatch(
        r"connection (error \((ConnectionResetError|BrokenPipeError)\)|closed without a response) on GET /accounts/login/").all(), \
        failed["reason"].unique()
    assert len(failed) == proxy.accepted["reset"]  # every reset is recorded, once
    assert_outage_on_timeline(checked, window.start, window.end, "login.form", "connection")


def test_stalled_answers_time_out_on_the_step_that_stalled(tmp_path, target, fault_proxy):
    """The token endpoint and the API stall (accepted, never answered) for 3 s; the scenario
    gives up after target.timeout_s = 1 s. The timeouts land on oidc.token and api.call, after
    the logins before them succeeded, not on the journey's first step."""
    token = fault_proxy("stall", upstream_port=target.port)
    api = fault_proxy("stall", upstream_port=target.port)
    window = RunWindow(tmp_path / "runs", (token, api), WINDOW)
    started = time.time()
    result = run_faulty(tmp_path, target.base_url, journeys={"web": ["form_login", "api"],
                                                             "app": ["oidc_login"]},
                        rate=4, timeout_s=1, token_endpoint=token.url + "/o/token/",
                        api_endpoints=[{"path": api.url + "/api/me"}])
    assert time.time() - started < 10 + 3 + 10  # bounded: stalls cost the timeout, not the hold
    assert token.accepted["stall"] >= 4 and api.accepted["stall"] >= 4
    checked = check_run(result, {"web": STEPS["web"], "app": STEPS["app"][:-1]})
    failed = checked.failed_requests
    assert set(failed["outcome"]) == {"timeout"}
    by_step = failed.groupby("step", observed=True)["reason"].agg(set).to_dict()
    assert by_step == {"oidc.token": {"timeout after 1 s on POST /o/token/"},
                       "api.call": {"timeout after 1 s on GET /api/me"}}
    # the 1 s timeout, late by at most a loaded event loop's lag (the stall itself holds 30 s)
    assert failed["latency_ms"].between(950, 2500).all(), failed["latency_ms"].describe()
    # the journeys that timed out had logged in first: the steps before are ok
    for jid in failed["journey_id"]:
        mine = checked.requests[checked.requests["journey_id"] == jid]
        before = mine[mine["outcome"] == "ok"]["step"]
        assert {"login.submit"} <= set(before) or {"oidc.login_submit"} <= set(before)
    for step in ("oidc.token", "api.call"):
        assert_outage_on_timeline(checked, window.start, window.end, step, "timeout", slack_s=2.0)
