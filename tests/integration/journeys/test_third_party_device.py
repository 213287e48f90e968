"""CLI sign-in by the OAuth device authorization grant against panva/oidc-provider, which
nobody on this project wrote, with configuration only: its device authorization endpoint
from discovery, its own user-code, confirmation, devInteractions sign-in and consent pages,
and the token endpoint's answers (authorization_pending, access_denied, expired_token,
invalid_grant for a device code used again).

third_party/oidc_provider/server.mjs: the public client op-device; OP_DEVICE_INTERVAL_S
adds an `interval` to the device authorization answer (oidc-provider sends none: clients
then use RFC 8628's 5 s), OP_DEVICE_TTL_S shortens the device codes' lifetime. Device and
user codes are secrets: no assertion message here shows one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from authsurge.rundir import records as record
from tests.integration.journeys.test_third_party import ENVIRON, Server, running_oidc_provider
from tests.support.journeys import (
    REDIRECT_URI,
    Recorded,
    harness,
    poll_used_device_code,
    scenario,
)

DONE = "you can now close this page"  # its success page
INTERRUPTED = "The Sign-in request was interrupted"  # the page after an abort


@pytest.fixture(scope="module")
def op_device(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_oidc_provider(tmp_path_factory.mktemp("op-device"), OP_DEVICE_INTERVAL_S="1") as server:
        yield server


def op_flows(base_url: str, **device: Any) -> dict[str, Any]:
    return {"oidc": {"issuer": base_url, "client": {"client_id": "op-device"}, "redirect_uri": REDIRECT_URI},
            # the confirmation page carries confirm=yes itself; its named button is Abort
            "device": {"human_delay": {"min_s": 0.2, "max_s": 0.4}, "confirm_fields": {}, "confirm_button": "",
                       "done_text": DONE, **device}}


def device_scenario(base_url: str, **device: Any) -> Any:
    return scenario(base_url, {"cli": ["device_login"]}, op_flows(base_url, **device))


def test_a_device_sign_in_through_the_providers_own_pages(op_device, recorded: Recorded):
    # the person comes after the CLI's first poll (its interval: 1 s), which finds nothing yet
    s = device_scenario(op_device.base_url, human_delay={"min_s": 1.2, "max_s": 1.4})
    result = harness(recorded, s, ENVIRON).run("cli")
    assert result.ok, (result, recorded.rows())
    steps = recorded.steps()
    assert steps[:2] == ["oidc.discovery", "device.authorize"] and steps[-1] == "device.token"
    polls = [e for e in recorded.events if e["name"] == "device.poll"]
    assert polls and {e["context"]["reason"] for e in polls} == {"authorization_pending"}
    # user code, confirmation, sign-in, consent and the success page, with their redirects
    assert steps.count("device.verify") >= 5
    assert all(outcome == "ok" for *_, outcome in recorded.rows())


def test_the_link_with_the_code_in_it_signs_in_too(op_device, recorded: Recorded):
    s = device_scenario(op_device.base_url, use_complete=True)
    result = harness(recorded, s, ENVIRON).run("cli")
    assert result.ok, (result, recorded.rows())


def test_an_aborted_approval_is_access_denied_at_device_poll(op_device, recorded: Recorded):
    s = device_scenario(op_device.base_url, confirm_fields={"abort": "yes"}, done_text=INTERRUPTED)
    result = harness(recorded, s, ENVIRON).run("cli")
    assert (result.ok, result.step, result.outcome) == (False, "device.poll", record.REJECTED)
    assert "access_denied" in result.reason


def test_a_device_code_used_again_is_refused_by_the_provider(op_device, recorded: Recorded):
    s = device_scenario(op_device.base_url)
    h = harness(recorded, s, ENVIRON)
    failed = poll_used_device_code(h)
    assert failed is not None and (failed.step, failed.outcome) == ("device.poll", record.REJECTED)
    assert "invalid_grant" in failed.reason


def test_an_expired_device_code_is_expired_token_at_device_poll(tmp_path, recorded: Recorded):
    with running_oidc_provider(tmp_path, OP_DEVICE_INTERVAL_S="1", OP_DEVICE_TTL_S="2") as server:
        s = device_scenario(server.base_url, human_delay={"min_s": 4, "max_s": 4})
        result = harness(recorded, s, ENVIRON).run("cli")
    assert (result.ok, result.step, result.outcome) == (False, "device.poll", record.REJECTED)
    assert "expired_token" in result.reason
