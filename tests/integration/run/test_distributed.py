"""Master + 2 local workers give the same totals as one process, with no record lost."""

from __future__ import annotations

from tests.support.runner import records, run_scenario

WEB = """
journeys:
  web: {steps: [form_login, api]}
traffic:
  shape: {kind: steady, rate: 6}
  arrivals: uniform
run: {duration_s: 6, drain_s: 3, workers: WORKERS}
"""


def test_two_workers_run_the_same_plan_as_one_process_and_lose_no_record(tmp_path, target):
    one = run_scenario(tmp_path / "one", target.base_url, WEB.replace("WORKERS", "1"))
    two = run_scenario(tmp_path / "two", target.base_url, WEB.replace("WORKERS", "2"))
    assert one.status == two.status == "complete"
    a, b = records(one.run_dir), records(two.run_dir)
    ja, jb = a[a["kind"] == "journey"], b[b["kind"] == "journey"]
    assert len(ja) == len(jb) == 36
    assert set(b["worker"]) == {"worker-0", "worker-1"}
    assert (jb["worker"] == "worker-0").sum() == 18
    # every journey's requests arrived: 3 per journey (login form, submit, api), no duplicates
    reqs = b[b["kind"] == "request"]
    assert len(reqs) == 3 * len(jb)
    assert not reqs.duplicated(["journey_id", "step"]).any()
    assert set(reqs["journey_id"]) == set(jb["journey_id"])
    assert (jb["outcome"] == "ok").all()
    assert two.meta["harness"]["workers"] == 2 and len(two.meta["harness"]["worker_cpu_s"]) == 2
