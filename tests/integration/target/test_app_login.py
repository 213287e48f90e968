"""Sign-in for apps (the target's --app-login: django-allauth's headless API, JWT access
tokens, TOTP second factor) and the OAuth password grant, against real targets.

Passwords, codes, secrets and tokens are secrets: no assertion message here shows one.
"""

from __future__ import annotations

import base64
import csv
import json
import os
import stat
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pyotp
import pytest

from authsurge.errors import ExitStatus
from authsurge.target import TargetProcess, stop_target, target_status
from authsurge.target.cli import main as target_cli

TIMEOUT = 10
APP = "/_allauth/app/v1"
MFA_USERS = 12  # app_login_target (tests/integration/conftest.py)


def call(url: str, body: dict[str, Any] | None = None, *, headers: dict[str, str] | None = None,
         form: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """One request to the target (loopback only): JSON `body` or `form` POSTs, else a GET;
    returns the status and the JSON answer ({} when it is not JSON)."""
    assert url.startswith(("http://127.0.0.1:", "http://[::1]:"))
    data, sent = None, dict(headers or {})
    if body is not None:
        data, sent["Content-Type"] = json.dumps(body).encode(), "application/json"
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=data, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, {}


def login(target: TargetProcess, username: str, password: str) -> tuple[int, dict[str, Any]]:
    return call(f"{target.base_url}{APP}/auth/login", {"username": username, "password": password})


def second_factor(target: TargetProcess, session_token: str, code: str) -> tuple[int, dict[str, Any]]:
    return call(f"{target.base_url}{APP}/auth/2fa/authenticate", {"code": code},
                headers={"X-Session-Token": session_token})


def me(target: TargetProcess, **headers: str) -> tuple[int, dict[str, Any]]:
    return call(f"{target.base_url}/api/me", headers={k.replace("_", "-"): v for k, v in headers.items()})


def secrets_of(target: TargetProcess) -> dict[str, str]:
    assert target.mfa_secrets_file is not None
    with open(target.mfa_secrets_file, newline="") as f:
        return {row["username"]: row["totp_secret"] for row in csv.DictReader(f)}


def fresh_code(secret: str, room_s: float = 1.0) -> str:
    """The current code, with at least `room_s` left in its 30 s period (so two requests
    with it both fall into the period it is valid for)."""
    left = 30 - time.time() % 30
    if left < room_s:
        time.sleep(left + 0.05)
    return pyotp.TOTP(secret).now()


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"  # never the current code


def password_grant(target: TargetProcess, client_secret: str, username: str, password: str
                   ) -> tuple[int, dict[str, Any]]:
    basic = base64.b64encode(f"surge-password:{client_secret}".encode()).decode()
    return call(f"{target.base_url}/o/token/", headers={"Authorization": f"Basic {basic}"},
                form={"grant_type": "password", "username": username, "password": password,
                      "scope": "read"})


def test_headless_login_answers_a_session_token_and_a_jwt_access_token(app_login_target, target_env):
    status, answer = login(app_login_target, "user0001", target_env.password)
    assert status == 200 and answer["status"] == 200
    meta = answer["meta"]
    assert meta["is_authenticated"] is True
    assert meta["session_token"] and meta["refresh_token"]
    assert meta["access_token"].count(".") == 2  # a JWT
    assert answer["data"]["user"]["username"] == "user0001"
    assert me(app_login_target, X_Session_Token=meta["session_token"]) == (
        200, {"user": "user0001", "auth": "session_token"})
    assert me(app_login_target, Authorization=f"Bearer {meta['access_token']}") == (
        200, {"user": "user0001", "auth": "bearer", "client": None, "token": "jwt"})


def test_a_wrong_password_is_400_with_allauths_error(app_login_target):
    status, answer = login(app_login_target, "user0001", "not-the-password")
    assert status == 400
    assert [e["code"] for e in answer["errors"]] == ["username_password_mismatch"]
    assert "meta" not in answer or not answer["meta"].get("session_token")


def test_api_me_refuses_made_up_tokens_and_still_takes_dot_tokens(app_login_target, target_env):
    assert me(app_login_target, X_Session_Token="no-such-session")[0] == 401
    assert me(app_login_target, Authorization="Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln")[0] == 401
    assert me(app_login_target, Authorization="Bearer not-a-token")[0] == 401
    status, tokens = password_grant(app_login_target, target_env.client_secret, "user0003",
                                    target_env.password)
    assert status == 200
    assert me(app_login_target, Authorization=f"Bearer {tokens['access_token']}") == (
        200, {"user": "user0003", "auth": "bearer", "client": "surge-password"})


def test_an_mfa_account_needs_its_totp_code_after_the_password(app_login_target, target_env):
    secret = secrets_of(app_login_target)["mfa0001"]
    status, pending = login(app_login_target, "mfa0001", target_env.password)
    assert status == 401 and pending["meta"]["is_authenticated"] is False
    flows = {flow["id"]: flow for flow in pending["data"]["flows"]}
    assert flows["mfa_authenticate"].get("is_pending") is True
    assert flows["mfa_authenticate"]["types"] == ["totp"]
    token = pending["meta"]["session_token"]
    assert "access_token" not in pending["meta"]
    assert me(app_login_target, X_Session_Token=token)[0] == 401  # not signed in yet
    code = fresh_code(secret)
    status, wrong = second_factor(app_login_target, token, other_code(code))
    assert status == 400 and [e["code"] for e in wrong["errors"]] == ["incorrect_code"]
    status, done = second_factor(app_login_target, token, code)
    assert status == 200 and done["meta"]["is_authenticated"] is True
    assert {m["method"] for m in done["data"]["methods"]} == {"password", "mfa"}
    # the sign-in got a new session (and token); the pending one's token is not it
    assert me(app_login_target, X_Session_Token=done["meta"]["session_token"]) == (
        200, {"user": "mfa0001", "auth": "session_token"})
    assert me(app_login_target, Authorization=f"Bearer {done['meta']['access_token']}")[1]["user"] == "mfa0001"
    # the password alone, wrong: 400 before any second factor
    assert login(app_login_target, "mfa0001", "not-the-password")[0] == 400


def test_allauth_refuses_a_used_totp_code_on_every_worker(app_login_target, target_env):
    """allauth marks a code used for its account (in the default cache, which the target
    makes a database table shared by the workers); the same code again within its
    period is 400 incorrect_code, as a wrong one. Another account's code is its own."""
    secrets = secrets_of(app_login_target)
    code = fresh_code(secrets["mfa0002"], room_s=3.0)
    first = login(app_login_target, "mfa0002", target_env.password)[1]["meta"]["session_token"]
    assert second_factor(app_login_target, first, code)[0] == 200
    for _ in range(4):  # two workers: each sees the code again at least once, most likely
        token = login(app_login_target, "mfa0002", target_env.password)[1]["meta"]["session_token"]
        status, answer = second_factor(app_login_target, token, code)
        assert status == 400 and [e["code"] for e in answer["errors"]] == ["incorrect_code"]
    token = login(app_login_target, "mfa0003", target_env.password)[1]["meta"]["session_token"]
    assert second_factor(app_login_target, token, fresh_code(secrets["mfa0003"]))[0] == 200


def test_the_secrets_file_is_private_and_lists_every_mfa_account(app_login_target):
    path = app_login_target.mfa_secrets_file
    assert path == app_login_target.data_dir / "mfa-secrets.csv"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    lines = path.read_text().splitlines()
    assert lines[0] == "username,totp_secret"
    secrets = secrets_of(app_login_target)
    assert list(secrets) == [f"mfa{n:04d}" for n in range(1, MFA_USERS + 1)]
    for secret in secrets.values():
        assert len(base64.b32decode(secret)) == 20  # allauth's generator: 160 bits
    assert len(set(secrets.values())) == MFA_USERS


def test_the_password_grant_works_without_app_login(target, target_env):
    status, tokens = password_grant(target, target_env.client_secret, "user0002", target_env.password)
    assert status == 200 and tokens["token_type"] == "Bearer" and tokens["refresh_token"]
    assert me(target, Authorization=f"Bearer {tokens['access_token']}")[1]["client"] == "surge-password"
    status, error = password_grant(target, target_env.client_secret, "user0002", "not-the-password")
    assert status == 400 and error["error"] == "invalid_grant"
    assert password_grant(target, "wrong-secret", "user0002", target_env.password)[0] == 401
    # without --app-login allauth is not there at all
    assert login(target, "user0001", target_env.password)[0] == 404


def test_no_secret_reaches_the_targets_logs(app_login_target, target_env):
    status, pending = login(app_login_target, "mfa0004", target_env.password)
    token = pending["meta"]["session_token"]
    code = fresh_code(secrets_of(app_login_target)["mfa0004"])
    status, done = second_factor(app_login_target, token, code)
    assert status == 200
    logs = "".join(p.read_text() for p in app_login_target.data_dir.glob("*.log"))
    assert "/_allauth/app/v1/auth/2fa/authenticate" in logs  # the access log is on
    for secret in (target_env.password, *secrets_of(app_login_target).values(), token,
                   done["meta"]["session_token"], done["meta"]["access_token"]):
        assert secret not in logs
    assert f'"{code}"' not in logs and f"={code}" not in logs


def test_mfa_users_need_app_login(tmp_path, capsys):
    assert target_cli(["serve", "--mfa-users", "3", "--data-dir", str(tmp_path)]) == ExitStatus.BAD_INPUT
    assert "--mfa-users only makes sense with --app-login" in capsys.readouterr().err


def test_cli_serve_prints_the_secrets_path_and_a_restart_keeps_the_secrets(
        target_env, seeded_data_dir, capsys):
    """Also: in capacity mode the headless login and the password grant take the same
    password-check slots (one a second, no queue: the second check at once is 503)."""
    data_dir = str(seeded_data_dir)
    serve = ["serve", "--port", "0", "--data-dir", data_dir, "--users", "2", "--workers", "1",
             "--hasher-iterations", "1000", "--app-login", "--mfa-users", "2"]
    try:
        assert target_cli(serve) == 0
        first = (seeded_data_dir / "mfa-secrets.csv").read_text()
        assert target_cli(["stop", "--data-dir", data_dir]) == 0
        assert target_cli([*serve, "--login-capacity", "1", "--login-queue", "0"]) == 0
        assert (seeded_data_dir / "mfa-secrets.csv").read_text() == first
        out = capsys.readouterr().out
        assert f"TOTP secrets of the mfa accounts: {Path(data_dir).resolve() / 'mfa-secrets.csv'}" in out
        for secret in (target_env.password, *first.split()[1:]):
            assert secret.split(",")[-1] not in out
        base = target_status(seeded_data_dir).base_url
        assert base is not None
        url = f"{base}{APP}/auth/login"
        assert call(url, {"username": "user0001", "password": target_env.password})[0] == 200
        basic = base64.b64encode(f"surge-password:{target_env.client_secret}".encode()).decode()
        status, _ = call(f"{base}/o/token/", headers={"Authorization": f"Basic {basic}"},
                         form={"grant_type": "password", "username": "user0002",
                               "password": target_env.password})
        assert status == 503
        assert call(url, {"username": "user0002", "password": target_env.password})[0] == 503
    finally:
        stop_target(seeded_data_dir)


@pytest.fixture(scope="module")
def signup_app_target(target, target_env, sink, tmp_path_factory):
    """--signup and --app-login together (mandatory e-mail verification, allauth's pages)."""
    from authsurge.target import TargetOptions, start_target
    from tests.support.target import TEST_HASHER_ITERATIONS, seed_data_dir

    data_dir = tmp_path_factory.mktemp("signup-app-target")
    seed_data_dir(target.data_dir, data_dir)
    proc = start_target(TargetOptions(port=0, users=50, workers=1, threads=4,
                                      hasher_iterations=TEST_HASHER_ITERATIONS, data_dir=data_dir,
                                      startup_timeout_s=30, signup=True, smtp_port=sink.smtp_port,
                                      app_login=True, mfa_users=1), log=lambda line: None)
    try:
        yield proc
    finally:
        proc.stop()


def test_with_signup_the_prepared_accounts_still_sign_in_by_json(signup_app_target, target_env):
    status, answer = login(signup_app_target, "user0001", target_env.password)
    assert status == 200 and answer["meta"]["access_token"]
    status, pending = login(signup_app_target, "mfa0001", target_env.password)
    assert status == 401
    code = fresh_code(secrets_of(signup_app_target)["mfa0001"])
    assert second_factor(signup_app_target, pending["meta"]["session_token"], code)[0] == 200
    # sign-up is open here (closed with --app-login alone): a too short password is the
    # form's error, not 403 (and sends no mail)
    status, answer = call(f"{signup_app_target.base_url}{APP}/auth/signup",
                          {"email": "nobody@signup.example.test", "password": "x"})
    assert status == 400 and [e["code"] for e in answer["errors"]] == ["password_too_short"]


def test_with_signup_an_unverified_address_is_refused_like_a_wrong_password(signup_app_target):
    """As on the form login (SignupBackend): 400, not allauth's pending verify_email."""
    email, password = "app-unverified@signup.example.test", "a-long-password-1"
    status, signed_up = call(f"{signup_app_target.base_url}{APP}/auth/signup",
                             {"email": email, "password": password})
    assert status == 401
    assert any(f["id"] == "verify_email" and f.get("is_pending") for f in signed_up["data"]["flows"])
    status, answer = call(f"{signup_app_target.base_url}{APP}/auth/login",
                          {"email": email, "password": password})
    assert status == 400 and [e["code"] for e in answer["errors"]] == ["email_password_mismatch"]


def test_without_signup_the_headless_signup_is_closed(app_login_target):
    status, _ = call(f"{app_login_target.base_url}{APP}/auth/signup",
                     {"username": "newcomer", "password": "a-long-password-1"})
    assert status == 403
