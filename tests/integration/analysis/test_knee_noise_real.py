"""No knee from noise: the shipped App-Store trace, replayed against the embedded target far
below its capacity, must not be reported as saturating (a thin top bin of a binned trace
falls short of its offered load by chance; that is Poisson noise, not a knee)."""

from __future__ import annotations

from pathlib import Path

import pytest

from authsurge.analysis import RunAnalysis, analyze_run
from tests.support.real import run_against, start
from tests.support.target import TEST_HASHER_ITERATIONS

TRACE = Path(__file__).resolve().parents[3] / "scenarios" / "traces" / "appstore_surge.csv"
SECONDS = 40  # six trace hours in 40 s
PEAK = 10.0  # journeys/s at the surge's top: far below the test target's capacity

REPLAY = """
credentials: {{count: 50}}
journeys:
  web_login: {{steps: [form_login, api, form_logout]}}
traffic:
  model: open
  shape: {{kind: trace, file: "{trace}", columns: {{web_login: web_login}},
           time_compression: {compression:g}, rate_scale: {scale:g}}}
  arrivals: poisson
run: {{duration_s: {seconds}, drain_s: 2}}
"""


@pytest.fixture(scope="module")
def replay(target, tmp_path_factory: pytest.TempPathFactory) -> RunAnalysis:  # noqa: ANN001
    tmp = tmp_path_factory.mktemp("replay")
    compression = 6 * 3600 / SECONDS
    peak = max(float(line.split(",")[1]) for line in TRACE.read_text().splitlines()
               if line and line[0].isdigit())
    body = REPLAY.format(trace=TRACE, compression=compression,
                         scale=PEAK / (peak * compression), seconds=SECONDS)
    # 150 ms in every request and 32 threads: far from any limit, but completions lag their
    # arrivals, so the busiest (Poisson) seconds of a bin spill into the next window
    proc = start(target.data_dir, tmp / "target", workers=2, threads=16, delay_ms=150,
                 hasher_iterations=TEST_HASHER_ITERATIONS)
    try:
        run_dir = run_against(proc, body, tmp, "replay")
    finally:
        proc.stop()
    return analyze_run(run_dir)


def test_the_replay_holds_the_trap_a_ratio_alone_falls_into(replay: RunAnalysis) -> None:
    # some judged point falls short of 90% of its offered load: by the ratio alone it would
    # be a knee (the old rule said "saturates first" here, with the target's CPU at 13%)
    share = replay.config.goodput_share
    points = replay.points[replay.points["completed"] >= 30]
    assert (points["goodput_rps"] < share * points["offered_rps"]).any(), replay.summary_text()


def test_a_trace_far_below_capacity_has_no_knee(replay: RunAnalysis) -> None:
    reached = [r["step"] for r in replay.first_to_fail if r["reached"]]
    assert reached == [], replay.summary_text()
    assert replay.cause is None and replay.to_json()["collapse"] is None


def test_its_verdict_does_not_say_the_surge_fails(replay: RunAnalysis) -> None:
    assert replay.verdict["status"] != "fails", replay.summary_text()
