"""`--rate-scale auto`: the trace is scaled to a measured capacity (the capacity search
against a real target: tests/integration/test_calibrate.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import authsurge.calibrate as calibrate
from authsurge.scenario import parse_scenario
from authsurge.traffic import curves_for


def test_auto_scale_puts_the_trace_login_peak_at_the_chosen_multiple(monkeypatch):
    """The measurement is tested in tests/integration/test_calibrate.py; here only the scaling
    arithmetic, with capacity fixed at 10/s."""
    root = Path(__file__).resolve().parents[2]
    scenario = parse_scenario((root / "scenarios" / "appstore_surge.yaml").read_text(),
                              root / "scenarios" / "appstore_surge.yaml")
    monkeypatch.setattr(calibrate, "find_capacity",
                        lambda s, progress=True: calibrate.Calibration(10.0, [], False))
    scale, info = calibrate.calibrate_rate_scale(scenario, progress=False)
    assert info.capacity_rps == 10.0 and info.peak_multiple == 2.0
    curves = curves_for(scenario, rate_scale=scale)
    grid = np.linspace(0, 360, 20_001)
    peak = float(np.max(curves["web_login"].rate(grid) + curves["app_login"].rate(grid)
                        + curves["web_signup"].rate(grid)))
    assert peak == pytest.approx(2.0 * 10.0, rel=0.01)


# --- judging a probe: known answers on planted records ---------------------------------------

def _probe_run(tmp_path: Path, rate: float, seconds: float, latency_ms, ok=lambda i: True) -> Path:
    """A probe's run directory: journeys arriving every 1/rate s with the latency given."""
    from tests.support.records import frame, write_shard

    t = 1_000.0 + np.arange(0, seconds, 1 / rate)
    rows = [{"kind": "journey", "t_intended": ti, "t_start": ti, "step": "web", "journey": "web",
             "journey_id": f"j{i}", "latency_ms": latency_ms(i, len(t)),
             "outcome": "ok" if ok(i) else "timeout"} for i, ti in enumerate(t)]
    write_shard(frame(rows), tmp_path / "requests" / "worker-0.parquet")
    return tmp_path


def test_a_steady_probe_passes_judged_on_the_arrivals_it_made(tmp_path):
    run = _probe_run(tmp_path, rate=20, seconds=10, latency_ms=lambda i, n: 80.0)
    probe = calibrate.judge_probe(run, 25.0, warmup_s=1.5)  # planned 25/s, 20/s arrived
    assert probe.passed, probe.why
    assert probe.arrivals == pytest.approx(170, abs=2)
    assert probe.goodput == pytest.approx(20.0, rel=0.05) and probe.p95_ms == 80.0


def test_a_queue_that_keeps_growing_fails_the_probe_though_everyone_signs_in(tmp_path):
    # every sign-in succeeds, but each waits 25 ms more than the one before: a growing queue
    run = _probe_run(tmp_path, rate=20, seconds=10, latency_ms=lambda i, n: 50.0 + 25.0 * i)
    probe = calibrate.judge_probe(run, 20.0, warmup_s=1.5)
    assert not probe.passed
    assert any(why.startswith("queueing") for why in probe.why), probe.why
    assert any(why.startswith("completed") for why in probe.why), probe.why


def test_failed_sign_ins_fail_the_probe_and_bound_the_capacity(tmp_path):
    run = _probe_run(tmp_path, rate=20, seconds=10, latency_ms=lambda i, n: 80.0,
                     ok=lambda i: i % 4 != 0)
    probe = calibrate.judge_probe(run, 20.0, warmup_s=1.5)
    assert not probe.passed and probe.throughput_bound
    assert "25% of sign-ins failed" in probe.why


def test_the_scenarios_knee_latency_fails_a_probe_that_keeps_up_too_slowly(tmp_path):
    run = _probe_run(tmp_path, rate=20, seconds=10, latency_ms=lambda i, n: 1500.0)
    probe = calibrate.judge_probe(run, 20.0, warmup_s=1.5, max_p95_ms=1000.0)
    assert probe.why == ["p95 1500 ms above 1000 ms"]


# --- the search, on a planted capacity (probes faked: no run, no target) ---------------------

PROBE_SCENARIO = """
name: t
target: {base_url: "http://127.0.0.1:9"}
journeys:
  web: {steps: [form_login]}
traffic:
  shape: {kind: steady, rate: 1}
run: {duration_s: 10}
"""


def _search(monkeypatch, capacity: float, ok_share: float = 1.0, **kwargs):
    """find_capacity against a target that sustains `capacity` sign-ins/s: a probe above it
    completes `capacity` a second and fails on throughput."""
    from types import SimpleNamespace

    import authsurge.run as runner

    rates: list[float] = []
    monkeypatch.setattr(runner, "run", lambda opts: SimpleNamespace(run_dir=Path("/nonexistent")))

    def judge(run_dir, rate, **_):
        rates.append(rate)
        over = rate > capacity
        return calibrate.Probe(rate, arrivals=100, goodput=min(rate, capacity), success=ok_share,
                               passed=not over and ok_share == 1.0, throughput_bound=over,
                               why=["completed less than arrived"] if over else [])

    monkeypatch.setattr(calibrate, "judge_probe", judge)
    scenario = parse_scenario(PROBE_SCENARIO, Path("/tmp/s.yaml"))
    return calibrate.find_capacity(scenario, progress=False, **kwargs), rates


@pytest.mark.parametrize("capacity", [3.3, 12.0, 27.7, 150.0])
def test_the_search_ends_within_its_resolution_below_the_planted_capacity(monkeypatch, capacity):
    found, rates = _search(monkeypatch, capacity, start_rate=2.0)
    assert capacity / 1.08 <= found.capacity <= capacity
    assert len(rates) <= 10 and found.probes and not found.given


def test_a_probe_far_above_the_capacity_caps_the_search_near_its_goodput(monkeypatch):
    # doubling overshoots 12 at 16 (1.33x its goodput of 12): the next probes stay near 12
    _, rates = _search(monkeypatch, 12.0, start_rate=2.0)
    assert rates[:4] == [2.0, 4.0, 8.0, 16.0]
    assert all(r <= 12.0 * 1.05 for r in rates[4:]), rates


def test_no_successful_sign_in_fails_at_once_with_what_to_check(monkeypatch):
    from authsurge.errors import BadInput

    with pytest.raises(BadInput, match="no sign-in succeeded at 2.0/s.*check the credentials"):
        _search(monkeypatch, 12.0, ok_share=0.0, start_rate=2.0)
