"""Apps' sign-ins against Flask-Security-Too, which nobody on this project wrote, with
authsurge's own step groups and configuration only: its JSON login (`/login` with a JSON
body, the auth token in `Authentication-Token`), and its two-factor TOTP, by JSON
(`/tf-validate`) and by its HTML code page.

third_party/flask_security/app.py with FS_TWO_FACTOR=1: accounts mfa0001..mfa0010@example.org
have an authenticator app (secrets written to FS_MFA_SECRETS_FILE), and each code is good
once per account (Flask-Security's last-counter hooks). The venv is the one
test_third_party.py installs. Codes, secrets and passwords are secrets: no assertion
message here shows one.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from authsurge.rundir import records as record
from tests.integration.journeys.test_third_party import FS_PASSWORD, Server, running_flask_security
from tests.support.journeys import Recorded, harness, scenario

ENVIRON = {"AUTHSURGE_PASSWORD": FS_PASSWORD}
JSON_LOGIN = {
    "url": "/login?include_auth_token",
    "username_field": "email",
    "session_token_path": "response.user.authentication_token",
    "success": {"status": [200], "json_path": "response.user.authentication_token"},
    "second_factor": {"status": [200], "json_path": "response.tf_required", "json_equals": True},
}
TOTP_JSON = {
    "url": "/tf-validate?include_auth_token",
    "session_header": None,  # the half-done login is the session cookie
    "success": {"status": [200], "json_path": "response.user.authentication_token"},
}
TOKEN_API = {"auth": "header", "header": "Authentication-Token"}


@pytest.fixture(scope="module")
def fs_mfa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    log_dir = tmp_path_factory.mktemp("flask-security-mfa")
    secrets = log_dir / "mfa-secrets.csv"
    with running_flask_security(
        log_dir, FS_TWO_FACTOR="1", FS_MFA_SECRETS_FILE=str(secrets)
    ) as server:
        yield server, secrets


def fs_scenario(base_url: str, journey: list[str], flows: dict[str, Any], *, account: str,
                totp_file: Path | None = None) -> Any:
    """One account per scenario: each test signs in with its own, so no test waits for the
    next code period because another used the account's code."""
    credentials: dict[str, Any] = {"pattern": account, "first": 1, "count": 1}
    if totp_file is not None:
        credentials["totp_file"] = str(totp_file)
    return scenario(base_url, {"app": journey}, flows, credentials=credentials)


def fresh_period(period_s: float = 30.0, margin_s: float = 4.0) -> None:
    """Wait out the end of a code period, so that two sign-ins in a row share one."""
    left = period_s - time.time() % period_s
    if left < margin_s:
        time.sleep(left + 0.1)


def test_json_login_gives_a_token_the_api_takes_in_its_header(fs_mfa, recorded: Recorded):
    server, _ = fs_mfa
    s = fs_scenario(server.base_url, ["json_login", "api"], {"json_login": JSON_LOGIN, "api": TOKEN_API},
                    account="user{n:04d}@example.org")
    result = harness(recorded, s, ENVIRON).run("app")
    assert result.ok, (result, recorded.rows())
    assert recorded.rows() == [("login.json", "POST", 200, "ok"), ("api.call", "GET", 200, "ok")]


def test_a_wrong_password_is_rejected_at_login_json(fs_mfa, recorded: Recorded):
    server, _ = fs_mfa
    s = fs_scenario(server.base_url, ["json_login", "api"], {"json_login": JSON_LOGIN},
                    account="user{n:04d}@example.org")
    result = harness(recorded, s, {"AUTHSURGE_PASSWORD": FS_PASSWORD + "-wrong"}).run("app")
    assert (result.ok, result.step, result.outcome) == (False, "login.json", record.REJECTED)
    assert recorded.rows() == [("login.json", "POST", 400, record.REJECTED)]


def test_json_login_with_totp_then_the_api_by_token(fs_mfa, recorded: Recorded):
    server, secrets = fs_mfa
    flows = {"json_login": JSON_LOGIN, "totp": TOTP_JSON, "api": TOKEN_API}
    s = fs_scenario(server.base_url, ["json_login", "totp", "api"], flows,
                    account="mfa{n:04d}@example.org", totp_file=secrets)
    result = harness(recorded, s, ENVIRON).run("app")
    assert result.ok, (result, recorded.rows())
    assert recorded.rows() == [("login.json", "POST", 200, "ok"), ("mfa.totp", "POST", 200, "ok"),
                               ("api.call", "GET", 200, "ok")]


def test_an_account_needing_a_second_factor_fails_a_journey_without_totp(fs_mfa, recorded):
    server, secrets = fs_mfa
    s = fs_scenario(server.base_url, ["json_login", "api"], {"json_login": JSON_LOGIN},
                    account="mfa{n:04d}@example.org")
    result = harness(recorded, s, ENVIRON).run("app")
    assert (result.step, result.outcome) == ("login.json", record.UNEXPECTED_PAGE)
    assert "second factor" in result.reason


def test_a_wrong_totp_code_is_rejected_at_mfa_totp(fs_mfa, recorded: Recorded, tmp_path):
    server, _ = fs_mfa
    wrong = tmp_path / "wrong.csv"  # a secret the server never gave this account
    wrong.write_text("username,totp_secret\nmfa0003@example.org,"
                     + base64.b32encode(os.urandom(20)).decode() + "\n")
    flows = {"json_login": JSON_LOGIN, "totp": TOTP_JSON}
    s = fs_scenario(server.base_url, ["json_login", "totp"], flows, account="mfa0003@example.org",
                    totp_file=wrong)
    result = harness(recorded, s, ENVIRON).run("app")
    assert (result.ok, result.step, result.outcome) == (False, "mfa.totp", record.REJECTED)
    assert "already used" not in result.reason
    assert recorded.rows()[-1] == ("mfa.totp", "POST", 400, record.REJECTED)


def test_a_code_sent_twice_in_one_period_is_refused_and_said_to_be_reused(fs_mfa, recorded):
    server, secrets = fs_mfa
    flows = {"json_login": JSON_LOGIN, "totp": {**TOTP_JSON, "reuse": "send"}}
    s = fs_scenario(server.base_url, ["json_login", "totp"], flows, account="mfa0004@example.org",
                    totp_file=secrets)
    h = harness(recorded, s, ENVIRON)
    fresh_period()
    first, second = h.run("app"), h.run("app")
    assert first.ok, (first, recorded.rows())
    assert (second.ok, second.step, second.outcome) == (False, "mfa.totp", record.REJECTED)
    assert "code already used" in second.reason


def test_form_login_then_the_totp_code_page(fs_mfa, recorded: Recorded):
    server, secrets = fs_mfa
    flows = {"form_login": {"login_url": "/login"}, "totp": {"mode": "form", "url": "/tf-validate"}}
    s = fs_scenario(server.base_url, ["form_login", "totp", "api"], flows,
                    account="mfa0006@example.org", totp_file=secrets)
    result = harness(recorded, s, ENVIRON).run("app")
    assert result.ok, (result, recorded.rows())
    assert recorded.rows() == [
        ("login.form", "GET", 200, "ok"),
        ("login.submit", "POST", 302, "ok"),  # to /tf-validate
        ("mfa.totp", "GET", 200, "ok"),  # the code page: csrf_token, code
        ("mfa.totp", "POST", 302, "ok"),
        ("api.call", "GET", 200, "ok"),  # the session cookie
    ]


def test_a_wrong_code_on_the_code_page_is_rejected(fs_mfa, recorded: Recorded, tmp_path):
    server, _ = fs_mfa
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("username,totp_secret\nmfa0007@example.org,"
                     + base64.b32encode(os.urandom(20)).decode() + "\n")
    flows = {"form_login": {"login_url": "/login"}, "totp": {"mode": "form", "url": "/tf-validate"}}
    s = fs_scenario(server.base_url, ["form_login", "totp"], flows, account="mfa0007@example.org",
                    totp_file=wrong)
    result = harness(recorded, s, ENVIRON).run("app")
    assert (result.step, result.outcome) == ("mfa.totp", record.REJECTED)
    assert recorded.rows()[-1] == ("mfa.totp", "POST", 200, record.REJECTED)  # the page again
