"""CLI sign-in by the device authorization grant against the embedded target
(django-oauth-toolkit, --device-slow-down with a 1-s interval), through authsurge's
device_login with the default settings: the CLI's polls honour the interval (read from
the records), each slow_down adds 5 s, a denied approval is access_denied at device.poll,
and a device code used again is refused. Device and user codes are secrets: no assertion
message here shows one.
"""

from __future__ import annotations

import gevent

from typing import Any

import pytest

from authsurge.rundir import records as record
from tests.support.journeys import (
    Recorded,
    dot_oidc,
    harness,
    poll_used_device_code,
    scenario,
)

INTERVAL_S = 1.0  # device_target's (tests/integration/conftest.py)


def device_scenario(base_url: str, **device: Any) -> Any:
    flows = {"oidc": dot_oidc(base_url, "surge-device"),
             "device": {"human_delay": {"min_s": 1.5, "max_s": 1.8}, **device}}
    return scenario(base_url, {"cli": ["device_login", "api"]}, flows)


def polls(recorded: Recorded) -> list[dict[str, Any]]:
    """(start_time, reason) of the CLI's polls, the final one with the token included."""
    return [{"t_start": e["start_time"], "reason": e["context"]["reason"]}
            for e in recorded.events if e["name"] in ("device.poll", "device.token")]


def test_a_device_sign_in_polls_no_sooner_than_the_interval(device_target, recorded: Recorded):
    result = harness(recorded, device_scenario(device_target.base_url)).run("cli")
    assert result.ok, (result, recorded.rows())
    steps = recorded.steps()
    assert "device.authorize" in steps and steps[-2:] == ["device.token", "api.call"]
    # the login page, its form, the user code, the approval and the status page
    assert steps.count("device.verify") >= 5
    done = polls(recorded)
    assert [p["reason"] for p in done[:-1]] == ["authorization_pending"] * (len(done) - 1)
    assert len(done) >= 2  # the person took longer than one interval
    starts = [p["t_start"] for p in done]
    assert min(b - a for a, b in zip(starts, starts[1:], strict=False)) >= INTERVAL_S


def test_each_slow_down_adds_5_s_to_the_wait(device_target, recorded: Recorded):
    # a CLI that polls every 0.3 s whatever the interval: its second poll is too soon
    s = device_scenario(device_target.base_url, interval_s=0.3, human_delay={"min_s": 60, "max_s": 60})
    h = harness(recorded, s)
    running = gevent.spawn(h.run, "cli")
    gevent.sleep(6.5)  # three polls: pending, slow_down (0.3 s later), slow_down (5.3 s later)
    running.kill()
    done = polls(recorded)
    assert [p["reason"] for p in done[:3]] == ["authorization_pending", "slow_down", "slow_down"]
    gaps = [b["t_start"] - a["t_start"] for a, b in zip(done, done[1:], strict=False)]
    assert gaps[0] == pytest.approx(0.3, abs=0.25)
    assert gaps[1] - gaps[0] == pytest.approx(5.0, abs=0.25)


def test_a_denied_approval_is_access_denied_at_device_poll(device_target, recorded: Recorded):
    s = device_scenario(device_target.base_url, confirm_fields={"action": "deny"})
    result = harness(recorded, s).run("cli")
    assert (result.ok, result.step, result.outcome) == (False, "device.poll", record.REJECTED)
    assert "access_denied" in result.reason


def test_a_device_code_used_again_is_refused(device_target, recorded: Recorded):
    s = device_scenario(device_target.base_url)
    h = harness(recorded, s)
    failed = poll_used_device_code(h)
    assert failed is not None and (failed.step, failed.outcome) == ("device.poll", record.REJECTED)
    assert "invalid_grant" in failed.reason
