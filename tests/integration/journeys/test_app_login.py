"""App sign-ins against the embedded target (--app-login): django-allauth's headless JSON
login for apps, its TOTP second factor, and django-oauth-toolkit's password grant, through
authsurge's step groups with the default settings. Each failure is attributed to its
step with its outcome class.

A code is good once per account and 30 s: these tests use mfa0005..mfa0008 (see
tests/integration/conftest.py). Codes, secrets, tokens and passwords are secrets: no
assertion message here shows one.
"""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path
from typing import Any

from authsurge.rundir import records as record
from tests.support.journeys import Recorded, harness, scenario

PASSWORD_CLIENT = {"client_id": "surge-password", "auth_method": "client_secret_basic",
                   "secret_env": "AUTHSURGE_CLIENT_SECRET"}
MFA_JOURNEY = ["json_login", "totp", "api"]


def app_scenario(base_url: str, journey: list[str], flows: dict[str, Any] | None = None, *,
                 account: str = "user{n:04d}", totp_file: Path | None = None) -> Any:
    credentials: dict[str, Any] = {"pattern": account, "count": 1}
    if totp_file is not None:
        credentials["totp_file"] = str(totp_file)
    return scenario(base_url, {"app": journey}, flows, credentials=credentials)


def wrong_secrets(tmp_path: Path, account: str) -> Path:
    path = tmp_path / "wrong.csv"  # a secret the target never gave this account
    path.write_text(f"username,totp_secret\n{account},{base64.b32encode(os.urandom(20)).decode()}\n")
    return path


def test_json_login_then_the_api_with_the_session_token_header(app_login_target, recorded: Recorded):
    s = app_scenario(app_login_target.base_url, ["json_login", "api"],
                     {"api": {"auth": "header", "header": "X-Session-Token"}})
    result = harness(recorded, s).run("app")
    assert result.ok, (result, recorded.rows())
    assert recorded.rows() == [("login.json", "POST", 200, "ok"), ("api.call", "GET", 200, "ok")]


def test_json_login_then_the_api_with_its_access_token_as_bearer(app_login_target, recorded: Recorded):
    flows = {"json_login": {"access_token_path": "meta.access_token"}, "api": {"auth": "bearer"}}
    result = harness(recorded, app_scenario(app_login_target.base_url, ["json_login", "api"], flows)).run("app")
    assert result.ok, (result, recorded.rows())
    assert recorded.rows()[-1] == ("api.call", "GET", 200, "ok")


def test_without_the_header_the_api_refuses_the_json_login(app_login_target, recorded: Recorded):
    # the session token is no cookie: auth: session sends none, and the API says 401
    s = app_scenario(app_login_target.base_url, ["json_login", "api"], {"api": {"auth": "session"}})
    result = harness(recorded, s).run("app")
    assert (result.step, result.outcome) == ("api.call", record.HTTP_4XX)


def test_a_wrong_password_is_rejected_at_login_json(app_login_target, recorded: Recorded):
    s = app_scenario(app_login_target.base_url, ["json_login", "api"])
    result = harness(recorded, s, {"AUTHSURGE_PASSWORD": "not-the-password"}).run("app")
    assert (result.ok, result.step, result.outcome) == (False, "login.json", record.REJECTED)
    assert "username_password_mismatch" in result.reason
    assert recorded.rows() == [("login.json", "POST", 400, record.REJECTED)]


def test_json_login_with_totp_then_the_api(app_login_target, recorded: Recorded):
    s = app_scenario(app_login_target.base_url, MFA_JOURNEY, {"api": {"auth": "header"}},
                     account="mfa0005", totp_file=app_login_target.mfa_secrets_file)
    result = harness(recorded, s).run("app")
    assert result.ok, (result, recorded.rows())
    # the login waits for the code (401); the code's answer rotates the session token
    assert recorded.rows() == [("login.json", "POST", 401, "ok"), ("mfa.totp", "POST", 200, "ok"),
                               ("api.call", "GET", 200, "ok")]


def test_an_mfa_account_without_a_totp_step_fails_at_login_json(app_login_target, recorded: Recorded):
    s = app_scenario(app_login_target.base_url, ["json_login", "api"], account="mfa0006")
    result = harness(recorded, s).run("app")
    assert (result.step, result.outcome) == ("login.json", record.UNEXPECTED_PAGE)
    assert "second factor" in result.reason


def test_a_wrong_totp_code_is_rejected_at_mfa_totp(app_login_target, recorded: Recorded, tmp_path):
    s = app_scenario(app_login_target.base_url, MFA_JOURNEY, account="mfa0007",
                     totp_file=wrong_secrets(tmp_path, "mfa0007"))
    result = harness(recorded, s).run("app")
    assert (result.ok, result.step, result.outcome) == (False, "mfa.totp", record.REJECTED)
    assert "incorrect_code" in result.reason and "already used" not in result.reason


def test_a_code_sent_twice_in_one_period_is_refused_by_the_target(app_login_target, recorded: Recorded):
    s = app_scenario(app_login_target.base_url, ["json_login", "totp"], {"totp": {"reuse": "send"}},
                     account="mfa0008", totp_file=app_login_target.mfa_secrets_file)
    h = harness(recorded, s)
    left = 30 - time.time() % 30
    if left < 4:  # both sign-ins within one code period
        time.sleep(left + 0.1)
    first, second = h.run("app"), h.run("app")
    assert first.ok, (first, recorded.rows())
    assert (second.ok, second.step, second.outcome) == (False, "mfa.totp", record.REJECTED)
    assert "code already used" in second.reason and "incorrect_code" in second.reason


def test_the_password_grant_then_the_api_with_its_bearer_token(app_login_target, recorded: Recorded):
    flows = {"tokens": {"password_client": PASSWORD_CLIENT, "password_scope": "read",
                        "token_url": "/o/token/"}}
    s = app_scenario(app_login_target.base_url, ["password_grant", "api"], flows)
    result = harness(recorded, s).run("app")
    assert result.ok, (result, recorded.rows())
    assert recorded.rows() == [("token.password", "POST", 200, "ok"), ("api.call", "GET", 200, "ok")]
    bad = harness(recorded, s, {**os.environ, "AUTHSURGE_PASSWORD": "not-the-password"}).run("app")
    assert (bad.step, bad.outcome) == ("token.password", record.REJECTED)
    assert "invalid_grant" in bad.reason
