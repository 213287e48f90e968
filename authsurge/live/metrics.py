"""/metrics: the live state in Prometheus's format, written by prometheus_client.

`--metrics HOST:PORT` serves it for a team's Prometheus (and Grafana) to scrape while the
run lasts and for `run.drain_s` after it. Counters are cumulative from the run's start;
their final values are complete only after the last records have arrived (a worker
ships its rows once a second, and at its end).

    authsurge_requests_total{step, cohort, outcome}
    authsurge_request_latency_seconds_bucket{step, cohort, le}   (and _sum, _count)
    authsurge_journeys_total{journey, cohort, outcome}
    authsurge_dropped_arrivals_total{journey}
    authsurge_retries_total
    authsurge_planned_arrivals_per_second          the schedule, now
    authsurge_generator_cpu_percent{worker}        100 = one core
    authsurge_generator_loop_lag_seconds{worker}
"""

from __future__ import annotations

import gevent
from gevent.pywsgi import WSGIServer

import logging
import math
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from authsurge.live.state import LATENCY_BUCKETS_S, LiveState

log = logging.getLogger("authsurge.live")


class LiveCollector(Collector):
    """Reads the current run's LiveState at each scrape (nothing is copied between
    scrapes); `state` gives it (None before the first run: no samples)."""

    def __init__(self, state: Callable[[], LiveState | None]) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        s = self.state()
        if s is None:
            return
        requests = CounterMetricFamily(
            "authsurge_requests",
            "Requests recorded, by step, cohort and outcome class",
            labels=["step", "cohort", "outcome"],
        )
        for (step, cohort, outcome), n in sorted(s.request_totals.items()):
            requests.add_metric([step, cohort, outcome], n)
        yield requests
        latency = HistogramMetricFamily(
            "authsurge_request_latency_seconds",
            "Request latency (service time), by step and cohort",
            labels=["step", "cohort"],
        )
        for (step, cohort), (counts, total) in sorted(s.histograms.items()):
            cumulative = counts.cumsum()
            buckets = [
                (_le(b), float(c)) for b, c in zip(LATENCY_BUCKETS_S, cumulative, strict=False)
            ]
            buckets.append(("+Inf", float(cumulative[-1])))
            latency.add_metric([step, cohort], buckets, sum_value=total)
        yield latency
        journeys = CounterMetricFamily(
            "authsurge_journeys",
            "Journey attempts ended, by journey, cohort and outcome class",
            labels=["journey", "cohort", "outcome"],
        )
        for (journey, cohort, outcome), n in sorted(s.journey_totals.items()):
            journeys.add_metric([journey, cohort, outcome], n)
        yield journeys
        dropped = CounterMetricFamily(
            "authsurge_dropped_arrivals",
            "Planned arrivals that never started (no slot or account)",
            labels=["journey"],
        )
        for journey, n in sorted(s.dropped_totals.items()):
            dropped.add_metric([journey], n)
        yield dropped
        yield CounterMetricFamily(
            "authsurge_retries", "Journey attempts after a person's first", value=s.retries
        )
        second = int(s.elapsed_s())
        planned = (
            float(s.planned[second]) if s.status == "running" and second < len(s.planned) else 0.0
        )
        yield GaugeMetricFamily(
            "authsurge_planned_arrivals_per_second",
            "Journey arrivals/s the schedule plans now",
            value=planned,
        )
        cpu = GaugeMetricFamily(
            "authsurge_generator_cpu_percent",
            "Load generator CPU (100 = one core busy)",
            labels=["worker"],
        )
        lag = GaugeMetricFamily(
            "authsurge_generator_loop_lag_seconds",
            "Load generator event-loop lag",
            labels=["worker"],
        )
        for worker, sample in sorted(s.generators.items()):
            if (percent := sample.get("cpu_percent")) is not None:
                cpu.add_metric([worker], percent)
            if (lag_ms := sample.get("loop_lag_ms")) is not None:
                lag.add_metric([worker], lag_ms / 1000.0)
        yield cpu
        yield lag


def _le(bound: float) -> str:
    return repr(float(bound)) if math.isfinite(bound) else "+Inf"


class MetricsServer:
    """/metrics on HOST:PORT in this process's gevent loop, until `stop`."""

    def __init__(self, state: Callable[[], LiveState | None], host: str, port: int) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(LiveCollector(state))
        app = make_wsgi_app(self.registry)
        self.server = WSGIServer((host, port), app, log=None, error_log=log)
        self.host, self.port = host, port

    def start(self) -> MetricsServer:
        self.server.start()  # binds now: a port in use fails here, before the load
        self.port = int(self.server.server_port)
        log.info("metrics: http://%s/metrics", _hostport(self.host, self.port))
        return self

    def stop(self, linger_s: float = 0.0) -> None:
        """Stop serving, after `linger_s` (the run's drain_s: a last scrape)."""
        if linger_s > 0:
            log.info("metrics stay up for %.0f s (run.drain_s) for a last scrape", linger_s)
            gevent.sleep(linger_s)
        self.server.stop(timeout=1)


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
