"""Known answer on a real run: the target's login capacity is capped at N; analysis must find it."""

from __future__ import annotations

import pytest

from authsurge.analysis import analyze_run
from tests.support.runner import run_scenario

CAPACITY = 10.0

RAMP = """
credentials: {count: 50}  # the test target has user0001..user0050
journeys:
  web: {steps: [form_login, api, form_logout]}
traffic:
  shape: {kind: step_ramp, start_rate: 4, step_rate: 4, step_s: 7, steps: 5}
  arrivals: uniform
  max_concurrency: 500
analysis: {settle_s: 2}
run: {duration_s: 35, drain_s: 3}
"""


def test_login_knee_is_found_within_ten_percent_of_the_planted_capacity(tmp_path, target_factory):
    # two workers: one GIL-bound process near 80 req/s at the top level could be the API's knee
    capped = target_factory(login_capacity=CAPACITY, login_queue=5, workers=2, threads=16, users=50)
    result = run_scenario(tmp_path, capped.base_url, RAMP, pids=capped.pids())
    data = analyze_run(result.run_dir).to_json()
    knee = data["steps"]["login.submit"]["knee"]
    assert knee["reached"], knee
    assert knee["capacity"] == pytest.approx(CAPACITY, rel=0.10)
    ranked = [entry["step"] for entry in data["first_to_fail"]]
    assert ranked[0] == "login.submit"
    assert ranked.index("api.call") > ranked.index("login.submit")
    assert not data["steps"]["api.call"]["knee"]["reached"]
    assert data["verdict"]["limiting_step"] == "login.submit"
