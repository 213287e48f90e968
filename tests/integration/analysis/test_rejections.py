"""Rejections that come from the account pool, not from load, are called out by the analysis."""

from __future__ import annotations

from authsurge.analysis import analyze_run
from tests.support.runner import records, run_scenario

# the session target has user0001..user0050: user0041..user0060 is half missing accounts
TOO_MANY_ACCOUNTS = """
credentials: {first: 41, count: 20}
journeys:
  web: {steps: [form_login]}
traffic:
  shape: {kind: steady, rate: 8}
  arrivals: uniform
run: {duration_s: 4, drain_s: 3}
"""


def test_an_account_pool_larger_than_the_target_is_called_out(tmp_path, target):
    result = run_scenario(tmp_path, target.base_url, TOO_MANY_ACCOUNTS)
    rows = records(result.run_dir)
    submits = rows[(rows["kind"] == "request") & (rows["step"] == "login.submit")]
    rejected = int((submits["outcome"] == "rejected").sum())
    assert rejected >= 5 and (submits["outcome"] == "ok").sum() >= 5  # both halves were used
    warnings = analyze_run(result.run_dir).warnings
    [note] = [w for w in warnings if w.startswith("login.submit: ")]
    assert f"{rejected} of {len(submits)} requests" in note
