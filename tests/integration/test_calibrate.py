"""`--rate-scale auto`: the capacity search finds a known login capacity and scales the trace to it."""

from __future__ import annotations

import pytest

from authsurge.calibrate import find_capacity
from authsurge.errors import BadInput
from authsurge.scenario import parse_scenario
from tests.support.runner import scenario_text

PROBES = """
credentials: {count: 50}
journeys:
  web: {steps: [form_login]}
  api: {steps: [api]}
traffic:
  shape: {kind: steady, rate: 1}
  arrivals: uniform
run: {duration_s: 10}
"""


def test_capacity_search_keeps_the_last_rate_that_passed_below_the_planted_cap(tmp_path, target_factory):
    # a queue of 3 (0.5 s of waiting) absorbs a stall of the loaded test machine at 6/s; a
    # rate r above the cap builds (r - 6) x 6 s of backlog, so 7/s overflows it and fails
    capped = target_factory(login_capacity=6, login_queue=3, threads=8, users=50)
    path = tmp_path / "s.yaml"
    path.write_text(scenario_text(capped.base_url, PROBES))
    scenario = parse_scenario(path.read_text(), path)
    capacity = find_capacity(scenario, start_rate=2.0, probe_s=6.0, max_probes=5, progress=False)
    # probes at 2, 4, 6 pass (6 only just), 8 fails, then 7: the answer is the last pass
    assert 4.0 <= capacity <= 6.5


def test_a_probe_that_breaks_an_slo_does_not_pass(tmp_path, target_factory):
    # every request waits 300 ms: 2 logins/s succeed and keep up, but p95 is far above 100 ms
    slow = target_factory(delay_ms=300, threads=16, users=50)
    path = tmp_path / "s.yaml"
    path.write_text(scenario_text(slow.base_url, PROBES + 'slos: ["login.submit p95 < 100ms"]\n'))
    scenario = parse_scenario(path.read_text(), path)
    with pytest.raises(BadInput, match=r"within the scenario's SLOs \(login.submit p95 < 100 ms breached\)"):
        find_capacity(scenario, start_rate=2.0, probe_s=4.0, max_probes=1, progress=False)
