"""The device flow's pieces: a verification page's path that carries the user code is shown
redacted, and what a scenario needs for device_login."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from authsurge.journeys.device import shown
from authsurge.secret import Secret
from tests.support.journeys import scenario

CODE = Secret("WXYZ-2345", "test")


def test_a_path_carrying_the_user_code_is_shown_redacted():
    url = "http://127.0.0.1:8000/o/device-confirm/surge-device/WXYZ-2345?x=1"
    assert shown(url, CODE) == "/o/device-confirm/surge-device/<redacted>"
    assert shown("http://127.0.0.1:8000/o/device/?user_code=WXYZ-2345", CODE) is None  # query: never shown


def test_device_login_needs_discovery_or_its_endpoints():
    with pytest.raises(ValidationError, match="device_login needs flows.oidc"):
        scenario("http://127.0.0.1:8000", {"cli": ["device_login"]})
    s = scenario("http://127.0.0.1:8000", {"cli": ["device_login", "api"]},
                 {"device": {"client_id": "cli", "authorization_endpoint": "/o/device-authorization/",
                             "token_url": "/o/token/", "human_delay": {"min_s": 1, "max_s": 2}}})
    assert s.flows.device.human_delay.max_s == 2
    with pytest.raises(ValidationError, match="max_s must be at least min_s"):
        scenario("http://127.0.0.1:8000", {"cli": ["device_login"]},
                 {"device": {"client_id": "cli", "authorization_endpoint": "/a", "token_url": "/t",
                             "human_delay": {"min_s": 5, "max_s": 1}}})
