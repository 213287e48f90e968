"""Passwords and client secrets never leak: not into any file of a run directory, not into
the analysis, plots or report, not into logs or the terminal; not on success, not when the
target refuses them; and they come only from environment variables or secrets files.

Each run is a real short surge against the embedded target through `authsurge run
--analyze` and `authsurge report`: form login, OIDC with a confidential client
(surge-confidential, client_secret_basic) with refresh, userinfo, introspection and
revocation, and client credentials (surge-service).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from authsurge.cli import main
from authsurge.target import CLIENT_SECRET_ENV, PASSWORD_ENV
from tests.support.secret_scan import find_in_text, needles, scan_run_dir

CLIENTS = ["surge-confidential", "surge-service"]
EXPECTED_FILES = {"meta.json", "scenario.yaml", "schedule.parquet", "resources.parquet", "analysis.json",
                  "report.html", "requests/worker-0.parquet", "locust/stats_stats.csv",
                  "locust/stats_failures.csv", "plots/capacity.svg"}


def scenario(base_url: str, password: str = "password_env: AUTHSURGE_PASSWORD",
             client_secret: str = "secret_env: AUTHSURGE_CLIENT_SECRET") -> dict:
    confidential = {"client_id": "surge-confidential", "auth_method": "client_secret_basic"}
    service = {"client_id": "surge-service", "auth_method": "client_secret_basic"}
    key, _, value = client_secret.partition(": ")
    confidential[key] = service[key] = value
    pw_key, _, pw_value = password.partition(": ")
    return {
        "name": "secrets",
        "target": {"base_url": base_url},
        "credentials": {"count": 20, pw_key: pw_value},
        "flows": {"oidc": {"issuer": "/o", "client": confidential,
                           "redirect_uri": "http://127.0.0.1/callback",
                           "post_logout_redirect_uri": "http://127.0.0.1/logged-out"},
                  "tokens": {"client_credentials": service}},
        "journeys": {
            "web": {"steps": ["form_login", "api", "form_logout"]},
            "app": {"steps": ["oidc_login", "token_refresh", "userinfo", "token_introspect", "api",
                              "token_revoke"]},
            "service": {"steps": ["client_credentials", "api"]},
        },
        "traffic": {"shape": {"kind": "steady", "rate": 4}, "arrivals": "uniform"},
        "run": {"duration_s": 3, "drain_s": 3},
    }


def run_and_report(tmp_path: Path, data: dict, capfd, caplog) -> tuple[Path, str]:
    """`authsurge run --analyze`, then `authsurge report`; the run dir and everything printed or logged."""
    path = tmp_path / "scenario.yaml"
    path.write_text(json.dumps(data, indent=1))
    caplog.set_level(logging.DEBUG)
    code = main(["-v", "run", str(path), "--out", str(tmp_path / "runs"), "--no-progress", "--analyze"])
    assert code == 0, capfd.readouterr()
    run_dir = next((tmp_path / "runs").iterdir())
    assert main(["report", str(run_dir)]) == 0
    out, err = capfd.readouterr()
    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    return run_dir, "\n".join((out, err, logged))


def assert_nothing_leaks(run_dir: Path, output: str, secrets: dict[str, str], target=None) -> None:
    looking_for = needles(secrets, CLIENTS)
    hits, scanned = scan_run_dir(run_dir, looking_for)
    assert EXPECTED_FILES <= set(scanned), sorted(EXPECTED_FILES - set(scanned))
    hits += find_in_text(output, "captured stdout/stderr/logs", looking_for)
    if target is not None:
        log = target.data_dir / "gunicorn.log"
        if log.exists():
            hits += find_in_text(log.read_text(errors="replace"), "target gunicorn.log", looking_for)
    assert not hits, hits


def outcomes(run_dir: Path) -> dict[tuple[str, str], int]:
    import pyarrow.parquet as pq

    rows = pq.read_table(run_dir / "requests").to_pandas()
    req = rows[rows["kind"] == "request"]
    return req.groupby(["step", "outcome"], observed=True).size().to_dict()


def test_a_successful_run_leaks_no_secret(tmp_path, target, target_env, capfd, caplog):
    run_dir, output = run_and_report(tmp_path, scenario(target.base_url), capfd, caplog)
    seen = outcomes(run_dir)
    for step in ("login.submit", "oidc.token", "token.refresh", "token.introspect", "token.revoke",
                 "token.client_credentials", "oidc.userinfo"):
        assert seen.get((step, "ok"), 0) >= 1, (step, seen)  # every secret was really used
    assert not [k for k in seen if k[1] != "ok"], seen
    assert_nothing_leaks(run_dir, output, {"password": target_env.password,
                                           "client secret": target_env.client_secret}, target)


def test_a_run_with_wrong_secrets_leaks_neither_the_wrong_nor_the_right_ones(tmp_path, target, target_env,
                                                                          capfd, caplog, monkeypatch):
    wrong_pw, wrong_secret = "Wr0ng pass&word=%/+", "wrong-Client:Secret?&="
    monkeypatch.setenv(PASSWORD_ENV, wrong_pw)
    monkeypatch.setenv(CLIENT_SECRET_ENV, wrong_secret)
    run_dir, output = run_and_report(tmp_path, scenario(target.base_url), capfd, caplog)
    seen = outcomes(run_dir)
    assert seen.get(("login.submit", "rejected"), 0) >= 1, seen  # the form came back
    assert seen.get(("oidc.login_submit", "rejected"), 0) >= 1, seen
    assert seen.get(("token.client_credentials", "rejected"), 0) >= 1, seen  # invalid_client
    assert_nothing_leaks(run_dir, output, {"wrong password": wrong_pw, "wrong client secret": wrong_secret,
                                           "password": target_env.password,
                                           "client secret": target_env.client_secret})
    reasons = json.loads((run_dir / "analysis.json").read_text())["steps"]["token.client_credentials"]
    assert any("invalid_client" in e["reason"] for e in reasons["top_errors"])  # the reason still says why


def test_secrets_files_are_used_and_leak_nothing(tmp_path, target, target_env, capfd, caplog, monkeypatch):
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "password.txt").write_text(target_env.password + "\n")
    (secrets / "client-secret.txt").write_text(target_env.client_secret + "\n")
    monkeypatch.delenv(PASSWORD_ENV)  # only the files can provide them now
    monkeypatch.delenv(CLIENT_SECRET_ENV)
    data = scenario(target.base_url, password="password_file: secrets/password.txt",
                    client_secret="secret_file: secrets/client-secret.txt")
    run_dir, output = run_and_report(tmp_path, data, capfd, caplog)
    seen = outcomes(run_dir)
    assert seen.get(("login.submit", "ok"), 0) >= 1 and seen.get(("oidc.token", "ok"), 0) >= 1, seen
    assert seen.get(("token.client_credentials", "ok"), 0) >= 1, seen
    assert not [k for k in seen if k[1] != "ok"], seen
    stored = (run_dir / "scenario.yaml").read_text()
    assert "secrets/password.txt" in stored and "secrets/client-secret.txt" in stored  # names, not values
    assert_nothing_leaks(run_dir, output, {"password": target_env.password,
                                           "client secret": target_env.client_secret})


@pytest.mark.parametrize("where", ["credentials.password", "credentials.password_value",
                                   "flows.tokens.client_credentials.client_secret",
                                   "flows.oidc.client.secret"])
def test_a_secret_in_the_scenario_or_on_the_command_line_is_refused_without_echoing_it(
        tmp_path, target, where, capfd):
    value = "hunter2-in-plain-sight"
    data = scenario(target.base_url)
    node = data
    *parents, key = where.split(".")
    for part in parents:
        node = node[part]
    path = tmp_path / "scenario.yaml"
    # in the file ...
    node[key] = value
    path.write_text(json.dumps(data))
    assert main(["validate", str(path)]) == 2
    # ... and on the command line
    del node[key]
    path.write_text(json.dumps(data))
    assert main(["run", str(path), "--set", f"{where}={value}", "--out", str(tmp_path / "runs")]) == 2
    out, err = capfd.readouterr()
    assert "unknown key" in err and value not in out + err
    assert not (tmp_path / "runs").exists()
