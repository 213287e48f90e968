"""HTTPS targets: certificates are verified by default, `target.ca_bundle` trusts a private
CA, and `target.insecure: true` turns checks off with a loud WARNING.

Decision for a certificate the harness cannot verify: `authsurge run` stops in the
reachability check, before any load, with exit status 2 and a message that names the
certificate error and what to set (target.ca_bundle, or target.insecure). The reachability
check uses the very TLS context the journeys use, so it cannot pass where the load would
fail. Should the certificate become unverifiable during a run (a rotation to another CA),
each request fails on its own step with outcome `connection` and the reason
"TLS error on GET /accounts/login/: CERTIFICATE_VERIFY_FAILED".
"""

from __future__ import annotations

import locust.event  # noqa: I001 - locust first: gevent must patch before ssl
from locust.env import Environment

import logging
import time
from pathlib import Path

from authsurge.cli import main
from authsurge.journeys import AccountPool, JourneyContext, build_journeys, load_scenario_secrets
from authsurge.rundir import records as record
from authsurge.scenario import parse_scenario
from authsurge.target import target_status
from tests.support.certs import make_certs
from tests.support.runner import records, scenario_text

REDIRECT_URI = "http://127.0.0.1/callback"

# Form login, OIDC with a confidential client and client credentials: every TLS path.
BODY = """
credentials: {{count: 20}}
flows:
  oidc:
    issuer: /o
    client: {{client_id: surge-confidential, auth_method: client_secret_basic, secret_env: AUTHSURGE_CLIENT_SECRET}}
    redirect_uri: {redirect}
  tokens:
    client_credentials: {{client_id: surge-service, auth_method: client_secret_basic, secret_env: AUTHSURGE_CLIENT_SECRET}}
journeys:
  web: {{steps: [form_login, api, form_logout]}}
  app: {{steps: [oidc_login, api]}}
  service: {{steps: [client_credentials, api]}}
traffic:
  shape: {{kind: steady, rate: 3}}
  arrivals: uniform
run: {{duration_s: 4, drain_s: 3}}
"""


def write_scenario(tmp_path: Path, base_url: str, target_extra: str = "", name: str = "tls") -> Path:
    text = scenario_text(base_url, BODY.format(redirect=REDIRECT_URI), name=name)
    if target_extra:
        text = text.replace(f'target: {{base_url: "{base_url}"}}',
                            f'target: {{base_url: "{base_url}", {target_extra}}}')
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def test_the_embedded_target_serves_https_and_its_health_check_verifies_the_certificate(tls_target):
    assert tls_target.base_url.startswith("https://127.0.0.1:")
    status = target_status(tls_target.process.data_dir)
    assert status.running and status.healthy and status.base_url == tls_target.base_url


def test_with_the_private_ca_in_ca_bundle_logins_succeed(tls_target, tmp_path):
    # a relative ca_bundle is relative to the scenario file, like every path in it
    (tmp_path / "ca.pem").write_bytes(tls_target.certs.ca.read_bytes())
    result = run_file(write_scenario(tmp_path, tls_target.base_url, "ca_bundle: ca.pem"), tmp_path)
    assert result.status == "complete"
    assert result.meta["target"]["base_url"].startswith("https://")
    rows = records(result.run_dir)
    requests = rows[rows["kind"] == "request"]
    bad = requests[requests["outcome"] != "ok"]
    assert bad.empty, bad[["step", "outcome", "reason"]].to_string()
    ok_steps = set(requests["step"])
    assert {"login.submit", "oidc.login_submit", "oidc.token", "token.client_credentials", "api.call"} <= ok_steps
    journeys = rows[rows["kind"] == "journey"]
    assert len(journeys) >= 9 and (journeys["outcome"] == "ok").all()


def test_without_the_ca_the_run_stops_before_any_load_with_exit_2(tls_target, tmp_path, capsys):
    path = write_scenario(tmp_path, tls_target.base_url)
    code = main(["run", str(path), "--out", str(tmp_path / "runs"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert "CERTIFICATE_VERIFY_FAILED" in err and "target.ca_bundle" in err and "nothing was run" in err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_a_ca_bundle_of_another_ca_is_refused_as_clearly(tls_target, tmp_path, capsys):
    other = make_certs(tmp_path / "other", ca_name="some other CA")
    path = write_scenario(tmp_path, tls_target.base_url, f'ca_bundle: "{other.ca}"')
    code = main(["run", str(path), "--out", str(tmp_path / "runs"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and "CERTIFICATE_VERIFY_FAILED" in err


def test_a_missing_ca_bundle_file_is_bad_input(tls_target, tmp_path, capsys):
    path = write_scenario(tmp_path, tls_target.base_url, "ca_bundle: missing-ca.pem")
    code = main(["run", str(path), "--out", str(tmp_path / "runs"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and "target.ca_bundle" in err and "missing-ca.pem" in err


def test_an_unverifiable_certificate_mid_run_fails_each_request_as_connection(tls_target, tmp_path):
    """Past the reachability check (a certificate rotated during the run), the journeys'
    own client refuses the certificate: every request is a `connection` failure on its step,
    with the TLS reason, and nothing is sent."""
    path = write_scenario(tmp_path, tls_target.base_url)
    scenario = parse_scenario(path.read_text(), path)
    secrets = load_scenario_secrets(scenario)
    journeys = build_journeys(scenario, secrets)
    accounts = AccountPool(scenario.credentials, secrets.password)
    env = Environment(events=locust.event.Events())
    events: list[dict] = []
    env.events.request.add_listener(lambda **kw: events.append(kw))
    for n, name in enumerate(("web", "app", "service")):
        account = accounts.acquire()
        ctx = JourneyContext(environment=env, base_url=scenario.target.base_url, account=account,
                             journey=name, journey_id=f"j{n}", person_id=f"p{n}", attempt=1,
                             t_intended=time.time(), worker="test")
        result = journeys[name].run(ctx)
        assert not result.ok and result.outcome == record.CONNECTION
        assert "CERTIFICATE_VERIFY_FAILED" in result.reason
    first = {e["name"]: e["context"] for e in events}
    assert all(e["context"]["outcome"] == record.CONNECTION and e["context"]["status"] == 0 for e in events)
    assert first["login.form"]["reason"] == "TLS error on GET /accounts/login/: CERTIFICATE_VERIFY_FAILED"
    assert "oidc.discovery" in first  # OIDC journeys fail on their first request too
    assert len(events) == 3  # one request per journey, then each stopped


def test_insecure_works_and_logs_a_warning_that_verification_is_off(tls_target, tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    result = run_file(write_scenario(tmp_path, tls_target.base_url, "insecure: true"), tmp_path)
    assert result.status == "complete"
    rows = records(result.run_dir)
    journeys = rows[rows["kind"] == "journey"]
    assert len(journeys) >= 9 and (journeys["outcome"] == "ok").all()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING
                and "TLS CERTIFICATE CHECKS ARE OFF" in r.getMessage()]
    assert warnings, "insecure: true must be logged loudly"
    assert tls_target.base_url in warnings[0].getMessage()


def run_file(path: Path, tmp_path: Path):
    from authsurge import run as runner

    scenario = parse_scenario(path.read_text(), path)
    return runner.run(runner.RunOptions(scenario=scenario, out_root=tmp_path / "runs", progress=False))
