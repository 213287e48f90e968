"""`--rate-scale auto`: a probe that breaks an SLO does not pass (the known-answer capacity
search, a planted capacity found within 10%: tests/integration/test_demo.py)."""

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


def test_a_probe_that_breaks_an_slo_does_not_pass(tmp_path, target_factory):
    # every request waits 300 ms: 2 logins/s succeed and keep up, but p95 is far above 100 ms
    slow = target_factory(delay_ms=300, threads=16, users=50)
    path = tmp_path / "s.yaml"
    path.write_text(scenario_text(slow.base_url, PROBES + 'slos: ["login.submit p95 < 100ms"]\n'))
    scenario = parse_scenario(path.read_text(), path)
    with pytest.raises(BadInput, match=r"within the scenario's SLOs \(login.submit p95 < 100 ms breached\)"):
        find_capacity(scenario, start_rate=2.0, probe_s=4.0, max_probes=1, progress=False)
