"""App sign-ins leak nothing either: not the password, the client secret, the accounts'
TOTP secrets, the codes computed from them, or a JWT access token. A real short surge
against the embedded target with --app-login (allauth's headless JSON login, its TOTP
second factor, DOT's password grant) through `authsurge run --analyze` and `authsurge
report`; everything it wrote, printed or logged, and the target's logs, are searched.

The TOTP accounts are mfa0009..mfa0012 (tests/integration/conftest.py).
"""

from __future__ import annotations

import csv
import time

import pyotp

from tests.integration.secret.test_no_leaks import assert_nothing_leaks, outcomes, run_and_report
from tests.support.secret_scan import find_codes, scan_for_codes

MFA = ["mfa0009", "mfa0010", "mfa0011", "mfa0012"]


def app_scenario(base_url: str) -> dict:
    client = {"client_id": "surge-password", "auth_method": "client_secret_basic",
              "secret_env": "AUTHSURGE_CLIENT_SECRET"}
    return {
        "name": "app-secrets",
        "target": {"base_url": base_url},
        "credentials": {"count": 20},
        "flows": {"json_login": {"access_token_path": "meta.access_token"},
                  "tokens": {"password_client": client, "token_url": "/o/token/"},
                  "api": {"auth": "auto"}},
        "journeys": {
            "app": {"steps": ["json_login", "api"]},
            "app_mfa": {"steps": ["json_login", "totp", "api"],
                        "accounts": {"pattern": "mfa{n:04d}", "first": 9, "count": 4}},
            "legacy_app": {"steps": ["password_grant", "api"]},
        },
        # three TOTP sign-ins in 3 s over four accounts: no account needs a code twice
        "traffic": {"shape": {"kind": "steady", "rate": 4}, "arrivals": "uniform",
                    "mix": {"app": 2, "app_mfa": 1, "legacy_app": 1}},
        "run": {"duration_s": 3, "drain_s": 3},
    }


def test_an_app_sign_in_run_leaks_no_password_secret_seed_code_or_token(
        tmp_path, app_login_target, target_env, capfd, caplog):
    data = app_scenario(app_login_target.base_url)
    data["journeys"]["app_mfa"]["accounts"]["totp_file"] = str(app_login_target.mfa_secrets_file)
    started = time.time()
    run_dir, output = run_and_report(tmp_path, data, capfd, caplog)
    seen = outcomes(run_dir)
    for step in ("login.json", "mfa.totp", "token.password", "api.call"):
        assert seen.get((step, "ok"), 0) >= 1, (step, seen)  # every secret was really used
    assert not [k for k in seen if k[1] != "ok"], seen
    with open(app_login_target.mfa_secrets_file, newline="") as f:
        seeds = {row["username"]: row["totp_secret"] for row in csv.DictReader(f) if row["username"] in MFA}
    assert sorted(seeds) == MFA
    secrets = {"password": target_env.password, "client secret": target_env.client_secret,
               **{f"TOTP secret of {user}": seed for user, seed in seeds.items()}}
    assert_nothing_leaks(run_dir, output, secrets, app_login_target)
    # every code those accounts could have been sent during the run
    codes = {f"a code of {user}": pyotp.TOTP(seed).at(t)
             for user, seed in seeds.items() for t in range(int(started) - 30, int(time.time()) + 31, 30)}
    hits = scan_for_codes(run_dir, codes) + find_codes(output, "captured output", codes)
    for log in ("gunicorn.log", "access.log"):
        path = app_login_target.data_dir / log
        if path.exists():
            hits += find_codes(path.read_text(errors="replace"), f"target {log}", codes)
    assert not hits, hits
