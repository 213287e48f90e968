"""The generic form and OIDC handling against login pages nobody on this project wrote.

- panva/oidc-provider (a certified OpenID Provider, from npm) with its own login,
  consent and logout-confirmation pages; installed by `npm ci` from
  third_party/oidc_provider/package-lock.json into .authsurge/third_party/ on first use.
- Flask-Security-Too's stock login view with Flask-WTF CSRF (from PyPI); installed into
  a venv in .authsurge/third_party/ by pip on first use, and again when
  third_party/flask_security/requirements.txt changes (test_third_party_signup.py starts
  the same app with its mail features).

authsurge talks to both with configuration only. Both install folders are git-ignored;
each server is started on a free loopback port and stopped by PID.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from authsurge.rundir import records as record
from tests.support.journeys import POST_LOGOUT_URI, REDIRECT_URI, free_port, harness, scenario

OP_DIR = Path(__file__).parent / "third_party" / "oidc_provider"
FS_DIR = Path(__file__).parent / "third_party" / "flask_security"
# What gets installed (node_modules, a venv) lives outside tests/, in the git-ignored
# .authsurge/: only our own sources stay under tests/.
INSTALLS = Path(__file__).resolve().parents[3] / ".authsurge" / "third_party"
FS_PASSWORD = "flask-security-test-password"
OP_SECRET = "op-test-client-secret"
ENVIRON = {"AUTHSURGE_PASSWORD": "devinteractions-take-any-password", "OP_SECRET": OP_SECRET}


@dataclass(frozen=True)
class Server:
    base_url: str
    pid: int


def _wait_for(url: str, proc: subprocess.Popen, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited with {proc.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback only
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"no answer from {url} within {timeout_s:g} s")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def oidc_provider_install() -> tuple[str, Path]:
    """node, and the folder where oidc-provider is installed (npm ci, again whenever the lock
    changes) with our server.mjs beside it; skips without node or a registry."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("node and npm are needed for the oidc-provider tests")
    app = INSTALLS / "oidc_provider"
    app.mkdir(parents=True, exist_ok=True)
    lock = OP_DIR / "package-lock.json"
    installed = app / "node_modules" / "oidc-provider"
    if not installed.is_dir() or (app / "package-lock.json").read_bytes() != lock.read_bytes():
        for name in ("package.json", "package-lock.json"):
            shutil.copy2(OP_DIR / name, app / name)
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=app,
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            pytest.skip(f"npm ci of oidc-provider failed (no registry?): {done.stderr[-300:]}")
    shutil.copy2(OP_DIR / "server.mjs", app / "server.mjs")  # ESM resolves imports beside the file
    return node, app


@contextmanager
def running_oidc_provider(log_dir: Path, **env: str) -> Iterator[Server]:
    """oidc-provider on a free loopback port (server.mjs says what `env` turns on, e.g.
    OP_DEVICE_TTL_S, OP_DEVICE_INTERVAL_S), stopped on the way out."""
    node, app = oidc_provider_install()
    port = free_port()
    log = log_dir / "server.log"
    env = {**os.environ, "OP_CLIENT_SECRET": OP_SECRET, "OP_OWNER_PID": str(os.getpid()), **env}
    with open(log, "wb") as out:
        proc = subprocess.Popen([node, "server.mjs", str(port)], cwd=app, stdout=out,
                                stderr=subprocess.STDOUT, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_for(base + "/.well-known/openid-configuration", proc)
        except RuntimeError as exc:
            pytest.fail(f"oidc-provider did not start: {exc}\n{log.read_text(errors='replace')[-1000:]}")
        yield Server(base, proc.pid)
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def oidc_provider(tmp_path_factory) -> Iterator[Server]:
    with running_oidc_provider(tmp_path_factory.mktemp("oidc-provider")) as server:
        yield server


def flask_security_python() -> Path:
    """The venv's python with requirements.txt installed: again whenever that file changes."""
    venv = INSTALLS / "flask_security-venv"
    python = venv / "bin" / "python"
    marker = venv / ".installed"  # the requirements it was installed from
    wanted = (FS_DIR / "requirements.txt").read_text()
    if not python.exists() or not marker.exists() or marker.read_text() != wanted:
        steps = [[sys.executable, "-m", "venv", "--clear", str(venv)],
                 [str(python), "-m", "pip", "install", "-q", "-r", str(FS_DIR / "requirements.txt")]]
        for cmd in steps:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
            if done.returncode != 0:
                pytest.skip(f"installing Flask-Security-Too failed (no registry?): {done.stderr[-300:]}")
        marker.write_text(wanted)
    return python


@contextmanager
def running_flask_security(log_dir: Path, **env: str) -> Iterator[Server]:
    """The Flask-Security app on a free loopback port (app.py says what `env` turns on),
    stopped on the way out."""
    python = flask_security_python()
    port = free_port()
    log = log_dir / "server.log"
    env = {**os.environ, "FS_PASSWORD": FS_PASSWORD, "FS_OWNER_PID": str(os.getpid()), **env}
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(python), "app.py", str(port)], cwd=FS_DIR, stdout=out,
                                stderr=subprocess.STDOUT, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_for(base + "/login", proc)
        except RuntimeError as exc:
            pytest.fail(f"Flask-Security app did not start: {exc}\n{log.read_text(errors='replace')[-1000:]}")
        yield Server(base, proc.pid)
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def flask_security(tmp_path_factory) -> Iterator[Server]:
    with running_flask_security(tmp_path_factory.mktemp("flask-security")) as server:
        yield server


def fs_scenario(base_url: str, **form_login):
    flows = {"form_login": {"login_url": "/login", **form_login},
             "form_logout": {"url": "/logout", "csrf_cookie": None, "csrf_page": "/account",
                             "csrf_field": "csrf_token", "expect_status": [302]}}
    return scenario(base_url, {"web": ["form_login", "api", "form_logout"]}, flows,
                    credentials={"pattern": "user{n:04d}@example.org", "count": 10})


def test_flask_security_login_api_logout(flask_security, recorded):
    h = harness(recorded, fs_scenario(flask_security.base_url), environ={"AUTHSURGE_PASSWORD": FS_PASSWORD})
    result = h.run("web")
    assert result.ok, (result, recorded.rows())
    assert recorded.rows() == [
        ("login.form", "GET", 200, "ok"),
        ("login.submit", "POST", 302, "ok"),  # email + password guessed, csrf_token carried
        ("api.call", "GET", 200, "ok"),
        ("logout.form", "GET", 200, "ok"),  # the page with the "Sign out" form (CSRF token)
        ("logout", "POST", 302, "ok"),
    ]


def test_flask_security_wrong_password_is_rejected(flask_security, recorded):
    h = harness(recorded, fs_scenario(flask_security.base_url), environ={"AUTHSURGE_PASSWORD": "wrong"})
    result = h.run("web")
    assert (result.outcome, result.step, result.reason) == (
        record.REJECTED, "login.submit", "form re-shown: wrong credentials?")


def test_flask_security_missing_csrf_token_is_a_400(flask_security, recorded):
    s = fs_scenario(flask_security.base_url, form={"extra_fields": {"csrf_token": ""}})
    h = harness(recorded, s, environ={"AUTHSURGE_PASSWORD": FS_PASSWORD})
    result = h.run("web")
    assert (result.outcome, result.step, result.reason) == (record.HTTP_4XX, "login.submit", "400 on POST /login")


def op_flows(base_url: str, client: str = "op-public", **extra) -> dict:
    oidc = {"issuer": base_url, "redirect_uri": REDIRECT_URI, "post_logout_redirect_uri": POST_LOGOUT_URI,
            "client": {"client_id": client}}
    if client == "op-confidential":
        oidc["client"] = {"client_id": client, "auth_method": "client_secret_basic", "secret_env": "OP_SECRET"}
    oidc.update(extra)
    return {"oidc": oidc}


def test_oidc_provider_login_consent_refresh_userinfo_revoke_and_logout(oidc_provider, recorded):
    steps = ["oidc_login", "token_refresh", "userinfo", "token_revoke", "oidc_logout"]
    h = harness(recorded, scenario(oidc_provider.base_url, {"op": steps}, op_flows(oidc_provider.base_url)),
                environ=ENVIRON)
    result = h.run("op")
    assert result.ok, (result, recorded.rows())
    assert recorded.rows() == [
        ("oidc.discovery", "GET", 200, "ok"),
        ("oidc.authorize", "GET", 303, "ok"),  # to /interaction/<uid>
        ("oidc.login_form", "GET", 200, "ok"),  # devInteractions' login page
        ("oidc.login_submit", "POST", 303, "ok"),
        ("oidc.authorize", "GET", 303, "ok"),  # resume, then the consent interaction
        ("oidc.authorize", "GET", 200, "ok"),  # devInteractions' consent page
        ("oidc.consent", "POST", 303, "ok"),
        ("oidc.authorize", "GET", 303, "ok"),  # resume: to redirect_uri with code, state, iss
        ("oidc.token", "POST", 200, "ok"),
        ("token.refresh", "POST", 200, "ok"),
        ("oidc.userinfo", "GET", 200, "ok"),
        ("token.revoke", "POST", 200, "ok"),
        ("oidc.logout", "GET", 200, "ok"),  # "Do you want to sign-out?" (its buttons sit outside the form)
        ("oidc.logout", "POST", 303, "ok"),  # logout=yes, back to post_logout_redirect_uri
    ]


def test_oidc_provider_confidential_client(oidc_provider, recorded):
    flows = op_flows(oidc_provider.base_url, "op-confidential")
    h = harness(recorded, scenario(oidc_provider.base_url, {"op": ["oidc_login"]}, flows), environ=ENVIRON)
    result = h.run("op")
    assert result.ok, (result, recorded.rows())


def test_oidc_provider_revoked_token_fails_userinfo(oidc_provider, recorded):
    flows = op_flows(oidc_provider.base_url)
    flows["tokens"] = {"revoke": "access_token"}
    h = harness(recorded, scenario(oidc_provider.base_url, {"op": ["oidc_login", "token_revoke", "userinfo"]},
                                   flows), environ=ENVIRON)
    result = h.run("op")
    assert (result.outcome, result.step) == (record.HTTP_4XX, "oidc.userinfo")
    assert result.reason == "401 on GET /me (invalid_token; access_token revoked earlier by token.revoke)"


def test_oidc_provider_consent_never_stops_at_its_consent_page(oidc_provider, recorded):
    flows = op_flows(oidc_provider.base_url, consent="never")
    h = harness(recorded, scenario(oidc_provider.base_url, {"op": ["oidc_login"]}, flows), environ=ENVIRON)
    result = h.run("op")
    assert (result.outcome, result.step) == (record.UNEXPECTED_PAGE, "oidc.authorize")
    assert result.reason.startswith("consent page on /interaction/")


def test_oidc_provider_replayed_code_is_invalid_grant(oidc_provider, recorded):
    from authsurge.journeys import OidcLogin, Provider, StepFailed, exchange_code, person
    from authsurge.journeys.credentials import Account
    from authsurge.secret import Secret
    from tests.support.journeys import context

    s = scenario(oidc_provider.base_url, {"op": ["oidc_login"]}, op_flows(oidc_provider.base_url))
    provider = Provider(s.flows.oidc)
    account = Account("alice", Secret("any", "test"))
    with person(context(recorded, oidc_provider.base_url, account=account)) as state:
        request, code = OidcLogin(provider).authorize(state)
        exchange_code(state, provider, code, request.verifier, request.nonce)
        with pytest.raises(StepFailed) as replay:
            exchange_code(state, provider, code, request.verifier, request.nonce)
    assert (replay.value.step, replay.value.outcome) == ("oidc.token", record.REJECTED)
    assert replay.value.reason == "400 on POST /token: invalid_grant"
