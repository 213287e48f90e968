"""Real runs against the embedded target on 127.0.0.1: a CPU-starved harness is flagged.

The harness runs in this process (one local worker). To starve it, the wire call of
authsurge's HTTP client is patched to burn 25 ms of CPU before each request, inside the
request's timing: the client, not the target, becomes slow. At 4 journeys/s that is
10% of a core; at 60/s it is 150%, so the gevent loop falls behind, latencies grow with
the client's own queue and a knee appears that a naive analysis would call the target's.
"""

from __future__ import annotations

import time

import pytest

from authsurge.analysis import analyze_run
from authsurge.journeys.client import Connection
from tests.support.runner import run_scenario

BURN_S = 0.025

PROBE = """
flows:
  api: {{endpoints: [{{path: /api/me, expect_status: [401]}}]}}
journeys:
  probe: {{steps: [api]}}
traffic:
  shape: {{kind: step_ramp, start_rate: {start}, step_rate: {step}, step_s: {step_s}, steps: 2}}
  arrivals: uniform
  max_concurrency: 2000
analysis: {{settle_s: 1, knee_p95_ms: 250}}
run: {{duration_s: {duration}, drain_s: 1}}
"""


@pytest.fixture()
def expensive_client(monkeypatch: pytest.MonkeyPatch) -> None:
    original = Connection.request

    def burning(self, head, body):  # bounded: 25 ms of CPU, then the real request
        until = time.perf_counter() + BURN_S
        while time.perf_counter() < until:
            pass
        return original(self, head, body)

    monkeypatch.setattr(Connection, "request", burning)


def test_a_cpu_starved_harness_is_flagged_and_its_knee_not_called_capacity(
    tmp_path, target, expensive_client
) -> None:
    result = run_scenario(
        tmp_path,
        target.base_url,
        PROBE.format(start=4, step=56, step_s=5, duration=10),
        pids=target.pids(),
    )
    # the runner records samples, the analysis judges them: meta.json holds no verdict
    assert "generator_bound_s" not in result.meta["harness"]
    analysis = analyze_run(result.run_dir)
    doc = analysis.to_json()
    gen = doc["generator"]
    assert gen["bound_s"] >= 3 and gen["bound_seconds"], gen
    t0 = result.meta["started_at"]
    # the easy first level (4/s, 5 s) is not flagged; a sample covers the second before it
    assert gen["bound_seconds"][0][0] >= t0 + 5 - 1.5
    worker = gen["per_worker"]["worker-0"]
    assert worker["max_cpu_percent"] > 90 or worker["max_loop_lag_ms"] > 50

    knee = doc["steps"]["api.call"]["knee"]
    assert knee["reached"], knee  # the client's queue made latency break the knee_p95_ms
    assert knee["generator_bound"] and knee["capacity_is_lower_bound"]
    assert knee["reason"].startswith("the client saturated first; add workers")
    assert doc["first_to_fail"][0]["generator_bound"] is True
    assert doc["verdict"]["generator_bound"] is True and doc["verdict"]["status"] == "unknown"
    text = analysis.summary_text()
    assert text.startswith("the client saturated first; add workers: api.call's knee")
    assert "saturates first, at about" not in text


def test_an_easy_run_is_not_flagged(tmp_path, target) -> None:
    result = run_scenario(
        tmp_path,
        target.base_url,
        PROBE.format(start=3, step=3, step_s=3, duration=6),
        pids=target.pids(),
    )
    doc = analyze_run(result.run_dir).to_json()
    assert doc["generator"]["bound_s"] == 0
    assert doc["generator"]["sampled"] and doc["generator"]["bound_seconds"] == []
    assert not any(s["knee"]["generator_bound"] for s in doc["steps"].values())
    assert not any(j["knee"]["generator_bound"] for j in doc["journeys"].values())
    assert doc["verdict"]["generator_bound"] is False
