"""LiveState counts what the records say, per second and per step, and finds a planted knee."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from authsurge.live.state import LiveState
from authsurge.recorder import Recorder
from authsurge.rundir import records as record
from authsurge.scenario import parse_scenario

T0 = float(int(time.time())) - 100.0  # a run that started 100 s ago
SCENARIO = """
name: live
target: {base_url: "http://127.0.0.1:9"}
journeys:
  sign_in: {steps: [form_login]}
traffic: {model: open, shape: {kind: steady, rate: 10}}
run: {duration_s: 120}
"""


def state() -> LiveState:
    s = LiveState(parse_scenario(SCENARIO, Path("live.yaml")))
    s.start(T0)
    return s


def batches(fill) -> list[pa.RecordBatch]:  # noqa: ANN001 - a function of the recorder
    shipped: list[bytes] = []
    table = record.ShippingTable(record.REQUEST_SCHEMA, shipped.append)
    fill(Recorder(table, "worker-0"))  # type: ignore[arg-type]
    table.flush()
    return [b for data in shipped for b in record.bytes_to_batches(data)]


def request(rec: Recorder, step: str, t: float, ms: float, ok: bool = True,
            cohort: str = record.SURGE) -> None:
    rec.on_request(request_type="GET", name=step, response_time=ms, start_time=t,
                   context={"outcome": record.OK if ok else record.TIMEOUT, "cohort": cohort,
                            "status": 200 if ok else 0})


def test_requests_are_counted_in_the_second_they_started_with_goodput_errors_and_p95() -> None:
    def fill(rec: Recorder) -> None:
        for i in range(20):  # second 3: 20 requests, 5 of them timed out, 1..20 ms
            request(rec, "login.submit", T0 + 3.1 + i / 100, ms=i + 1.0, ok=i >= 5)
        request(rec, "login.form", T0 + 7.5, ms=4.0)
    s = state()
    for b in batches(fill):
        s.observe(b)
    s.finish("complete")
    series = s.step_series("login.submit")
    assert series["t"] == [3] and series["offered"] == [20] and series["goodput"] == [15]
    assert series["error_rate"] == [0.25]
    assert series["p95_ms"][0] == round(float(np.percentile(np.arange(1.0, 21.0), 95)), 1)
    assert s.step_order == ["login.submit", "login.form"]
    assert s.request_totals[("login.submit", record.SURGE, record.TIMEOUT)] == 5
    assert s.request_totals[("login.submit", record.SURGE, record.OK)] == 15
    counts, total_s = s.histograms[("login.submit", record.SURGE)]
    assert counts.sum() == 20 and abs(total_s - sum(range(1, 21)) / 1000) < 1e-9
    assert counts[0] == 5  # <= 5 ms: 1..5 ms


def test_journeys_retries_drops_and_population_events_are_counted() -> None:
    def fill(rec: Recorder) -> None:
        for attempt in (1, 2, 3):
            rec.journey(journey="sign_in", journey_id=f"j{attempt}", person_id="p1",
                        attempt=attempt, t_intended=T0 + attempt, t_start=T0 + attempt,
                        t_end=T0 + attempt + 0.1, ok=attempt == 3,
                        outcome=record.OK if attempt == 3 else record.TIMEOUT,
                        step="login.submit", reason="timed out")
        rec.drop(journey="sign_in", person_id="p2", attempt=1, t_intended=T0 + 4, reason="cap")
        rec.event(what="relogin", person_id="p9", t=T0 + 5)
    s = state()
    for b in batches(fill):
        s.observe(b)
    snap = s.snapshot()
    assert snap["journeys"] == {"started": 3, "ok": 1, "retries": 2, "dropped": 1}
    assert s.arrivals == {1: 1}  # first attempts only, at their intended second
    assert s.events == {"relogin": 1}
    assert s.dropped_totals == {"sign_in": 1}


def test_a_planted_capacity_is_found_as_a_knee_so_far() -> None:
    """Offered rises 10 req/s each 5-s window; the step serves at most 50/s, the rest time
    out: the live knee is the analysis's rule, so past 50 req/s by its noise guard (at 60
    req/s offered, 300 requests a window, 50 short is within 1.645 sqrt(300))."""
    def fill(rec: Recorder) -> None:
        for second in range(60):
            offered = 10 + 10 * (second // 5)
            for i in range(offered):
                ok = i < 50
                request(rec, "login.submit", T0 + second + i / offered, ms=10.0 if ok else 2000.0,
                        ok=ok)
    s = state()
    s.planned = np.array([10 + 10 * (sec // 5) for sec in range(60)], float)
    for b in batches(fill):
        s.observe(b)
    s.finish("complete")
    snap = s.snapshot()
    [knee] = snap["knees"]
    assert knee["step"] == "login.submit"
    assert 50 <= knee["offered"] <= 70 and abs(knee["capacity"] - 50) <= 2
    assert knee["at_s"] in (25, 30)  # the window at 60 or 70 req/s offered
    assert snap["steps"][0]["knee"] == knee


def test_no_knee_while_the_step_keeps_up() -> None:
    def fill(rec: Recorder) -> None:
        for second in range(40):
            for i in range(5 + second):
                request(rec, "login.form", T0 + second + i / 100, ms=5.0)
    s = state()
    for b in batches(fill):
        s.observe(b)
    s.finish("complete")
    assert s.snapshot()["knees"] == []


def test_generator_and_target_samples_show_their_latest() -> None:
    s = state()
    rows = [
        {"t": T0 + 1, "source": "harness:worker-0", "cpu_percent": 40.0, "rss_bytes": 2_000_000,
         "processes": 1, "loop_lag_ms": 3.0, "cpu_count": 2, "busiest_cpu_percent": 40.0},
        {"t": T0 + 1, "source": "target", "cpu_percent": 95.0, "rss_bytes": 1, "processes": 3,
         "loop_lag_ms": float("nan"), "cpu_count": 1, "busiest_cpu_percent": 60.0},
    ]
    s.observe_resources(pa.RecordBatch.from_pylist(rows, schema=record.RESOURCE_SCHEMA))
    snap = s.snapshot()
    assert snap["generators"] == {"worker-0": {"cpu_percent": 40.0, "loop_lag_ms": 3.0, "rss_mb": 2.0}}
    assert snap["target_cpu_percent"] == 95.0


def test_the_populations_requests_have_rows_of_their_own_and_the_warm_up_none() -> None:
    def fill(rec: Recorder) -> None:
        request(rec, "api.call", T0 + 1, ms=3.0)
        request(rec, "api.call", T0 + 1.5, ms=3.0, cohort=record.POPULATION)
        request(rec, "login.submit", T0 - 5, ms=30.0, cohort=record.WARMUP)
    s = state()
    for b in batches(fill):
        s.observe(b)
    assert s.step_order == ["api.call", "api.call (population)"]
    assert s.request_totals[("login.submit", record.WARMUP, record.OK)] == 1  # still counted


def test_a_closed_second_keeps_its_p95_lets_its_latencies_go_and_still_counts_late_rows() -> None:
    s = state()  # its clock started 100 s ago: second 3 is long closed (10-s timeout + 2)
    first = batches(lambda rec: [request(rec, "login.submit", T0 + 3.2, ms=float(ms))
                                 for ms in range(1, 21)])
    late = batches(lambda rec: request(rec, "login.submit", T0 + 3.9, ms=5000.0, ok=False))
    for b in first:
        s.observe(b)
    cell = s.steps["login.submit"][3]
    assert cell.closed and cell.latencies == []
    p95 = cell.p95
    for b in late:
        s.observe(b)
    series = s.step_series("login.submit")
    assert series["offered"] == [21] and series["goodput"] == [20]
    assert cell.p95 == p95 == float(np.percentile(np.arange(1.0, 21.0), 95))
