"""The device authorization grant (RFC 8628) of the embedded target, driven by hand as a
device and a person with a browser would: the device authorization answer, polling
(authorization_pending, slow_down with --device-slow-down, the token, a reused code,
access_denied, expired_token), DOT's verification pages behind the login form, and
logs without any device or user code.

Device codes and user codes are secrets: no assertion message here shows one.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from authsurge.target import TargetProcess

TIMEOUT = 10
CLIENT = "surge-device"
GRANT = "urn:ietf:params:oauth:grant-type:device_code"
INTERVAL_S = 1  # device_target's (tests/integration/conftest.py)
# every device and user code the module's targets handed out: none may be in their logs
ISSUED: list[str] = []


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # every 302 comes back to the test, which checks where it points


@dataclass
class Answer:
    status: int
    body: str
    headers: Any

    def json(self) -> dict[str, Any]:
        return json.loads(self.body)

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


def call(opener: urllib.request.OpenerDirector, url: str, form: dict[str, str] | None = None) -> Answer:
    assert url.startswith("http://127.0.0.1:")
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    try:
        with opener.open(urllib.request.Request(url, data=data), timeout=TIMEOUT) as response:
            return Answer(response.status, response.read().decode(), response.headers)
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.read().decode(), error.headers)


def browser() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                       NoRedirect())


DEVICE = urllib.request.build_opener(NoRedirect())  # the device: no cookies


def authorize(target: TargetProcess) -> dict[str, Any]:
    r = call(DEVICE, f"{target.base_url}/o/device-authorization/", {"client_id": CLIENT})
    assert r.status == 200 and r.headers["Content-Type"] == "application/json"
    answer = r.json()
    ISSUED.extend([answer["device_code"], answer["user_code"]])
    return answer


def poll(target: TargetProcess, device_code: str) -> Answer:
    return call(DEVICE, f"{target.base_url}/o/token/",
                {"grant_type": GRANT, "device_code": device_code, "client_id": CLIENT})


def error_of(r: Answer) -> str | None:
    return r.json().get("error") if r.status == 400 else f"HTTP {r.status}"


def csrf(page: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert match, "no CSRF token in the page"
    return match.group(1)


def sign_in(target: TargetProcess, username: str, password: str) -> tuple[urllib.request.OpenerDirector, str]:
    """The person opens verification_uri: the login form first, then back to the user code
    form; returns the browser and that form."""
    b, base = browser(), target.base_url
    r = call(b, f"{base}/o/device/")
    assert r.status == 302 and r.location == "/accounts/login/?next=/o/device/"
    login = call(b, base + r.location)
    r = call(b, f"{base}/accounts/login/", {"csrfmiddlewaretoken": csrf(login.body), "next": "/o/device/",
                                            "username": username, "password": password})
    assert r.status == 302 and r.location == "/o/device/"
    form = call(b, base + r.location)
    assert form.status == 200 and 'name="user_code"' in form.body
    return b, form.body


def approve(target: TargetProcess, user_code: str, username: str, password: str,
            action: str = "accept") -> str:
    """The person: sign in, the user code, accept (or deny); returns the status page."""
    b, form = sign_in(target, username, password)
    base = target.base_url
    r = call(b, f"{base}/o/device/", {"csrfmiddlewaretoken": csrf(form), "user_code": user_code})
    assert r.status == 302 and r.location == f"/o/device-confirm/{CLIENT}/{user_code}", "not the confirm page"
    confirm = call(b, base + r.location)
    assert confirm.status == 200 and 'value="accept"' in confirm.body and 'value="deny"' in confirm.body
    r = call(b, base + r.location, {"csrfmiddlewaretoken": csrf(confirm.body), "action": action})
    assert r.status == 302 and r.location == f"/o/device-grant-status/{CLIENT}/{user_code}", "no status page"
    status = call(b, base + r.location)
    assert status.status == 200 and "<form" not in status.body
    return status.body


def test_discovery_names_the_endpoint_and_the_answer_has_codes_uris_and_interval(device_target):
    base = device_target.base_url
    discovery = call(DEVICE, f"{base}/o/.well-known/openid-configuration").json()
    assert discovery["device_authorization_endpoint"] == f"{base}/o/device-authorization/"
    r = call(DEVICE, f"{base}/o/device-authorization/", {"client_id": CLIENT})
    assert r.status == 200 and r.headers["Cache-Control"] == "no-store"
    answer = r.json()
    ISSUED.extend([answer["device_code"], answer["user_code"]])
    assert set(answer) == {"device_code", "user_code", "verification_uri", "verification_uri_complete",
                           "expires_in", "interval"}
    assert answer["verification_uri"] == f"{base}/o/device/"
    assert answer["verification_uri_complete"] == f"{base}/o/device/?user_code={answer['user_code']}"
    assert answer["expires_in"] == 600 and answer["interval"] == INTERVAL_S
    assert re.fullmatch(r"[0-9A-V]{8}", answer["user_code"]), "not DOT's user code format"
    unknown = call(DEVICE, f"{base}/o/device-authorization/", {"client_id": "nobody"})
    assert unknown.status == 400 and unknown.json()["error"] == "invalid_request"  # oauthlib's answer


def test_polls_are_pending_and_too_soon_is_slow_down_with_5_s_more(device_target):
    a, b = authorize(device_target)["device_code"], authorize(device_target)["device_code"]
    assert error_of(poll(device_target, a)) == "authorization_pending"
    fast = poll(device_target, a)
    assert error_of(fast) == "slow_down"
    assert fast.headers["Content-Type"] == "application/json" and fast.headers["Cache-Control"] == "no-store"
    assert error_of(poll(device_target, b)) == "authorization_pending"  # per device code
    assert error_of(poll(device_target, b)) == "slow_down"
    b_slowed = time.monotonic()
    time.sleep(INTERVAL_S + 0.5)
    # past the first interval, within the raised one (1 + 5 s)
    assert error_of(poll(device_target, a)) == "slow_down"
    time.sleep(max(0.0, b_slowed + INTERVAL_S + 5 + 0.3 - time.monotonic()))
    assert error_of(poll(device_target, b)) == "authorization_pending"


def test_approval_through_the_pages_gives_one_token(device_target, target_env):
    answer = authorize(device_target)
    assert error_of(poll(device_target, answer["device_code"])) == "authorization_pending"
    polled = time.monotonic()  # after the answer: the target measures between arrivals
    page = approve(device_target, answer["user_code"], "user0031", target_env.password)
    assert "Device Authorized" in page
    time.sleep(max(0.0, polled + INTERVAL_S + 0.2 - time.monotonic()))
    r = poll(device_target, answer["device_code"])
    assert r.status == 200 and r.headers["Cache-Control"] == "no-store"
    tokens = r.json()
    assert tokens["token_type"] == "Bearer" and {"access_token", "expires_in", "scope"} <= tokens.keys()
    me = urllib.request.Request(f"{device_target.base_url}/api/me",
                                headers={"Authorization": f"Bearer {tokens['access_token']}"})
    with urllib.request.urlopen(me, timeout=TIMEOUT) as response:
        assert json.loads(response.read()) == {"user": "user0031", "auth": "bearer", "client": CLIENT}
    time.sleep(INTERVAL_S + 0.2)
    assert error_of(poll(device_target, answer["device_code"])) == "invalid_grant"  # one token per code


def test_the_complete_uri_prefills_the_user_code_after_login(device_target, target_env):
    answer = authorize(device_target)
    b, base = browser(), device_target.base_url
    r = call(b, answer["verification_uri_complete"])
    assert r.status == 302 and r.location.startswith("/accounts/login/?next=/o/device/")
    login = call(b, f"{base}/accounts/login/")
    nxt = urllib.parse.parse_qs(urllib.parse.urlsplit(r.location).query)["next"][0]
    r = call(b, f"{base}/accounts/login/", {"csrfmiddlewaretoken": csrf(login.body), "next": nxt,
                                            "username": "user0032", "password": target_env.password})
    assert r.status == 302
    form = call(b, base + r.location)
    assert f'name="user_code" value="{answer["user_code"]}"' in form.body, "the user code is not pre-filled"


def test_a_denied_code_polls_access_denied_and_an_unknown_one_is_not_found(device_target, target_env):
    answer = authorize(device_target)
    assert "Device Denied" in approve(device_target, answer["user_code"], "user0033", target_env.password,
                                      action="deny")
    assert error_of(poll(device_target, answer["device_code"])) == "access_denied"
    unknown = poll(device_target, "no-such-device-code")
    assert unknown.status == 404 and unknown.json() == {"error": "device_not_found"}  # DOT's own answer


def test_an_expired_code_polls_expired_token_and_its_user_code_is_refused(target_factory, target_env):
    short = target_factory(device_code_lifetime_s=2, device_interval_s=1)
    answer = authorize(short)
    assert answer["expires_in"] == 2
    assert error_of(poll(short, answer["device_code"])) == "authorization_pending"
    time.sleep(2.2)
    assert error_of(poll(short, answer["device_code"])) == "expired_token"
    assert error_of(poll(short, answer["device_code"])) == "expired_token"  # and stays so
    b, form = sign_in(short, "user0034", target_env.password)
    r = call(b, f"{short.base_url}/o/device/", {"csrfmiddlewaretoken": csrf(form), "user_code": answer["user_code"]})
    assert r.status == 200 and "Expired user code" in r.body  # DOT's form again, with its error
    text = (short.data_dir / "gunicorn.log").read_text()
    assert not any(code in text for code in ISSUED), "a device or user code in gunicorn.log"


def test_no_device_or_user_code_reaches_the_logs(device_target):
    assert len(ISSUED) >= 10  # the tests above ran and handed out codes
    access = (device_target.data_dir / "access.log").read_text()
    assert f"/o/device-confirm/{CLIENT}/<redacted>" in access and "/o/device-grant-status/" in access
    for log in ("gunicorn.log", "access.log"):
        text = (device_target.data_dir / log).read_text()
        assert not any(code in text for code in ISSUED), f"a device or user code in {log}"
