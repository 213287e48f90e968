"""App sign-in settings: what a scenario must give for the password grant and TOTP, and
the warning for TOTP sign-ins that would reuse a code."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from authsurge.scenario import totp_reuse_warning
from tests.support.journeys import scenario


def test_password_grant_needs_its_client_and_a_token_endpoint():
    with pytest.raises(ValidationError, match="password_grant needs flows.tokens.password_client"):
        scenario("http://127.0.0.1:8000", {"app": ["password_grant"]})
    client = {"client_id": "surge-password"}
    with pytest.raises(ValidationError, match="password_grant needs flows.oidc"):
        scenario("http://127.0.0.1:8000", {"app": ["password_grant"]}, {"tokens": {"password_client": client}})
    s = scenario("http://127.0.0.1:8000", {"app": ["password_grant", "api"]},
                 {"tokens": {"password_client": client, "token_url": "/o/token/"}})
    assert s.journeys["app"].steps == ["password_grant", "api"]


def test_totp_needs_a_secrets_file():
    with pytest.raises(ValidationError, match="totp needs credentials.totp_file"):
        scenario("http://127.0.0.1:8000", {"app": ["json_login", "totp"]})


def test_totp_sign_ins_faster_than_accounts_x_period_are_warned_about():
    # 10 sign-ins/s x 30 s = 300 accounts needed
    warning = totp_reuse_warning(["app"], {"app": 10.0, "web": 50.0}, 200, 30)
    assert warning is not None and "give at least 300 accounts" in warning
    assert "every 20.0 s" in warning
    assert totp_reuse_warning(["app"], {"app": 10.0}, 300, 30) is None
    assert totp_reuse_warning([], {"web": 50.0}, 10, 30) is None


def test_validate_warns_when_totp_sign_ins_would_reuse_codes(tmp_path, capsys):
    from tests.support.cli import run_cli, write

    body = """\
name: totp-warning
credentials: {pattern: "mfa{n:04d}", count: 50, totp_file: mfa.csv}
journeys:
  app_mfa: {steps: [json_login, totp, api]}
traffic:
  shape: {kind: steady, rate: 5}
run: {duration_s: 30}
"""
    code, out = run_cli(["validate", str(write(tmp_path, body))], capsys)
    # 5 sign-ins/s x 30 s = 150 accounts needed, 50 given
    assert code == 0 and "warning: TOTP sign-ins peak at 5.0/s over 50 accounts" in out
    assert "give at least 150 accounts" in out
    code, out = run_cli(["validate", str(write(tmp_path, body.replace("count: 50", "count: 150")))], capsys)
    assert code == 0 and "warning" not in out
