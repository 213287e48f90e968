"""The closed model (Locust's user count) is kept: users run journeys back to back, recorded."""

from __future__ import annotations

from tests.support.runner import records, run_scenario

CLOSED = """
credentials: {count: 50}  # the session target has user0001..user0050
journeys:
  web: {steps: [form_login, api, form_logout]}
traffic:
  model: closed
  closed: {users: 3, spawn_rate: 10}
run: {duration_s: 4, drain_s: 1}
"""


def test_closed_model_users_run_journeys_back_to_back_and_are_recorded(tmp_path, target):
    result = run_scenario(tmp_path, target.base_url, CLOSED)
    assert result.status == "complete"
    rows = records(result.run_dir)
    journeys = rows[rows["kind"] == "journey"]
    assert len(journeys) >= 6 and (journeys["outcome"] == "ok").mean() > 0.9
    # at most 3 journeys overlap at any time: each user waits for its previous journey
    starts = journeys["t_intended"].to_numpy()
    ends = starts + journeys["latency_ms"].to_numpy() / 1000
    overlap = max(((starts <= t) & (ends > t)).sum() for t in starts)
    assert overlap <= 3
    assert set(rows[rows["kind"] == "request"]["step"]) >= {"login.form", "login.submit", "api.call", "logout"}
    # the generator self-check is in the analysis like an open run's
    from authsurge.analysis import analyze_run

    assert analyze_run(result.run_dir).to_json()["generator"]["bound_s"] == 0
    assert result.meta["harness"]["worker_cpu_s"]["worker-0"] > 0
