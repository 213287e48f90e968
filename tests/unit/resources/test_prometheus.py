"""Target metrics from a Prometheus endpoint are scraped once a second into metrics.parquet:
parsing the exposition format and where it may come from (the scraping itself:
tests/integration/resources/test_prometheus.py)."""

from __future__ import annotations

import pytest

from authsurge.errors import ScenarioError
from authsurge.resources import parse_prometheus
from authsurge.scenario import parse_scenario

EXPOSITION = """\
# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total {cpu}
# TYPE http_requests_total counter
http_requests_total{{path="/login",code="200"}} 7
http_requests_total{{path="/login",code="503"}} 3
process_resident_memory_bytes 1.5e+08
"""


def test_parse_sums_label_sets_and_keeps_only_the_wanted_metrics():
    got = parse_prometheus(EXPOSITION.format(cpu=12.5), ["http_requests_total", "process_cpu_seconds_total"])
    assert got == {"process_cpu_seconds_total": 12.5, "http_requests_total": 10.0}


def test_a_prometheus_host_outside_allowed_hosts_is_refused(tmp_path):
    text = ("name: t\ntarget: {prometheus_url: 'http://metrics.example:9090/metrics'}\n"
            "journeys: {w: {steps: [api]}}\ntraffic: {shape: {kind: steady, rate: 1}}\n")
    with pytest.raises(ScenarioError, match="prometheus_url"):
        parse_scenario(text, tmp_path / "s.yaml")
