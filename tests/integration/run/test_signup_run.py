"""A run of new and returning people against the embedded target with --signup: the run
starts its own mail sink where the target sends its mail, every sign-up step group is
measured like any other step, and no link, code or password reaches the run directory."""

from __future__ import annotations

import re

import pytest

from authsurge.analysis import analyze_run
from authsurge.rundir import records as record
from authsurge.target import TargetOptions, start_target
from tests.support.journeys import free_port
from tests.support.runner import records, run_scenario
from tests.support.target import TEST_HASHER_ITERATIONS, seed_data_dir

MIX = """
credentials: {{count: 20}}
journeys:
  signup_only: {{steps: [form_signup]}}
  new_verified: {{steps: [form_signup, email_verify, form_login, api, form_logout]}}
  new_by_code: {{steps: [form_signup, email_verify, email_code_login, api]}}
  returning: {{steps: [form_login, api, form_logout]}}
flows:
  mail: {{wait_s: 5, sink: {{smtp_port: {port}}}}}
traffic:
  shape: {{kind: steady, rate: 3}}
  mix: {{signup_only: 0.2, new_verified: 0.3, new_by_code: 0.2, returning: 0.3}}
  arrivals: uniform
run: {{duration_s: 10, drain_s: 5}}
"""
NEW_STEPS = {"signup.form", "signup.submit", "signup.email", "signup.confirm", "otp.request",
             "otp.email", "otp.verify"}


@pytest.fixture(scope="module")
def signup_run(tmp_path_factory, target, target_env):
    port = free_port()
    data_dir = tmp_path_factory.mktemp("signup-run-target")
    seed_data_dir(target.data_dir, data_dir)
    proc = start_target(TargetOptions(port=0, users=20, workers=1, threads=8,
                                      hasher_iterations=TEST_HASHER_ITERATIONS, data_dir=data_dir,
                                      signup=True, smtp_port=port), log=lambda line: None)
    try:
        tmp = tmp_path_factory.mktemp("signup-run")
        return run_scenario(tmp, proc.base_url, MIX.format(port=port), pids=proc.pids())
    finally:
        proc.stop()


def test_at_low_load_every_sign_up_step_succeeds_with_no_harness_error(signup_run):
    rows = records(signup_run.run_dir)
    requests = rows[rows["kind"] == record.KIND_REQUEST]
    assert NEW_STEPS <= set(requests["step"])
    failed = requests[requests["outcome"] != record.OK]
    assert failed.empty, failed[["step", "outcome", "reason"]].to_string()
    mail = signup_run.meta["mail"]
    signups = (requests["step"] == "signup.submit").sum()
    codes = (requests["step"] == "otp.email").sum()
    assert mail["counters"]["delivered"] == mail["counters"]["received"] >= signups + codes


def test_the_analysis_curves_every_sign_up_step(signup_run):
    with analyze_run(signup_run.run_dir) as analysis:
        assert NEW_STEPS <= set(analysis.steps)


def test_no_link_code_or_password_reaches_any_file_of_the_run(signup_run):
    for path in signup_run.run_dir.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        assert not re.search(rb"confirm-email/(?!<redacted>)[A-Za-z0-9:_-]{8,}", data), path
        assert not re.search(rb"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b", data), path
