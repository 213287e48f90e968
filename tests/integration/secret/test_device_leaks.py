"""Device sign-ins leak no code: neither a device code nor a user code is in anything a
real run wrote, printed or logged, nor in the target's logs. A short surge of device_login
against the embedded target (device_target: DOT's device grant) through `authsurge run
--analyze` and `authsurge report`; the codes it handed out are read from its database
afterwards. The same run checks `analyze` and `report` on a real device run: the polls
counted, the report's tile, the terminal's line.
"""

from __future__ import annotations

import json
import sqlite3

from authsurge.target.layout import DB_FILE
from tests.integration.secret.test_no_leaks import assert_nothing_leaks, outcomes, run_and_report
from tests.support.secret_scan import find_codes, scan_for_codes


def device_scenario(base_url: str) -> dict:
    return {
        "name": "device-secrets",
        "target": {"base_url": base_url},
        "credentials": {"count": 20},
        "flows": {"oidc": {"issuer": "/o", "client": {"client_id": "surge-device"},
                           "redirect_uri": "http://127.0.0.1/callback"},
                  "device": {"human_delay": {"min_s": 1.2, "max_s": 1.5}}},
        "journeys": {"cli": {"steps": ["device_login", "api"]}},
        "traffic": {"shape": {"kind": "steady", "rate": 2}, "arrivals": "uniform"},
        "run": {"duration_s": 3, "drain_s": 8},
    }


def test_a_device_sign_in_run_leaks_no_device_or_user_code(tmp_path, device_target, target_env, capfd, caplog):
    with sqlite3.connect(device_target.data_dir / DB_FILE) as db:
        before = {row[0] for row in db.execute("SELECT device_code FROM oauth2_provider_devicegrant")}
    run_dir, output = run_and_report(tmp_path, device_scenario(device_target.base_url), capfd, caplog)
    seen = outcomes(run_dir)
    for step in ("device.authorize", "device.poll", "device.verify", "device.token", "api.call"):
        assert seen.get((step, "ok"), 0) >= 1, (step, seen)
    assert not [k for k in seen if k[1] != "ok"], seen
    # analyze and report on a real device run: its polling counted and shown
    device = json.loads((run_dir / "analysis.json").read_text())["device"]
    assert device["sign_ins"] == seen[("device.token", "ok")]
    assert device["polls"] == seen[("device.token", "ok")] + seen[("device.poll", "ok")]
    assert device["polling_share_of_token_endpoint"] == seen[("device.poll", "ok")] / device["polls"]
    assert device["approve_s"]["p50"] >= 1.2  # the person's delay at least
    assert "token endpoint polling" in (run_dir / "report.html").read_text()
    assert "Device sign-ins:" in output
    with sqlite3.connect(device_target.data_dir / DB_FILE) as db:
        rows = [r for r in db.execute("SELECT device_code, user_code FROM oauth2_provider_devicegrant")
                if r[0] not in before]
    assert len(rows) >= 4
    # the long device codes: everywhere, in every encoding a request carries them
    assert_nothing_leaks(run_dir, output, {f"device code {n}": code for n, (code, _) in enumerate(rows)},
                         device_target)
    # the short user codes: standing alone in text (a binary file's bytes match by chance)
    user_codes = {f"user code {n}": code for n, (_, code) in enumerate(rows)}
    hits = scan_for_codes(run_dir, user_codes) + find_codes(output, "captured output", user_codes)
    for log in ("gunicorn.log", "access.log"):
        path = device_target.data_dir / log
        if path.exists():
            hits += find_codes(path.read_text(errors="replace"), f"target {log}", user_codes)
    assert not hits, hits
