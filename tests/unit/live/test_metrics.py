"""/metrics is prometheus_client's exposition of the live counts, labelled by step and cohort."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from authsurge.live.metrics import LiveCollector
from authsurge.rundir import records as record
from tests.unit.live.test_state import T0, batches, request, state


def scrape(s) -> dict[str, list]:  # noqa: ANN001
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LiveCollector(lambda: s))
    text = generate_latest(registry).decode()
    return {f.name: f.samples for f in text_string_to_metric_families(text)}


def test_counters_and_histograms_carry_step_and_cohort_labels() -> None:
    def fill(rec) -> None:  # noqa: ANN001
        for i in range(10):
            request(rec, "login.submit", T0 + 1 + i / 10, ms=30.0, ok=i < 7)
        request(rec, "api.call", T0 + 2, ms=2.0, cohort=record.POPULATION)
    s = state()
    for b in batches(fill):
        s.observe(b)
    metrics = scrape(s)
    requests = {(x.labels["step"], x.labels["cohort"], x.labels["outcome"]): x.value
                for x in metrics["authsurge_requests"]}
    assert requests == {("login.submit", "surge", "ok"): 7, ("login.submit", "surge", "timeout"): 3,
                        ("api.call", "population", "ok"): 1}
    buckets = {(x.labels["step"], x.labels["le"]): x.value
               for x in metrics["authsurge_request_latency_seconds"] if x.name.endswith("_bucket")}
    assert buckets[("login.submit", "0.025")] == 0 and buckets[("login.submit", "0.05")] == 10
    assert buckets[("login.submit", "+Inf")] == 10 and buckets[("api.call", "0.005")] == 1


def test_before_any_run_there_are_no_samples() -> None:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LiveCollector(lambda: None))
    assert generate_latest(registry) == b""
