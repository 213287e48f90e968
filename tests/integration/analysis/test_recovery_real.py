"""Recovery after a surge, the known answer: the same overload on the same target, once
with people retrying at once and often, once with exponential backoff and jitter;
sign-in recovers measurably later (or not at all) with the aggressive retries.

The target plants a capacity of CAPACITY password checks a second with a wait queue of
2 s, longer than the client's 1.5-s timeout: in an overload every admitted check waits
past the timeout and still takes its slot, so the work of a timed-out attempt is wasted
(the mechanism of a metastable failure). Retries that keep the queue full keep sign-in
down after the load has fallen."""

from __future__ import annotations

from pathlib import Path

import pytest

from authsurge import run as runner
from authsurge.analysis import analyze_run
from authsurge.rundir.meta import CalibrationInfo
from authsurge.scenario import parse_scenario

CAPACITY = 10.0
# fresh sign-ins a second: 0.2x capacity, 1.5x for 5 s, back to 0.2x for 21 s. Once every
# attempt times out, each person makes max_attempts of them: 3 (backoff) x 0.2x stays
# below the capacity and the queue drains; 20 (immediate) x 0.2x keeps it full
TRACE = "t_s,web\n0,2\n5.9,2\n6,15\n10.9,15\n11,2\n32,2\n"
SCENARIO = """
name: recovery
target: {{base_url: "{url}", timeout_s: 1.5}}
credentials: {{count: 300}}
journeys:
  web: {{steps: [form_login]}}
traffic:
  shape: {{kind: trace, file: surge.csv, columns: {{web: web}}}}
  arrivals: uniform
  max_concurrency: 1000
behaviour:
  retry: {retry}
analysis: {{knee_p95_ms: 1000}}
run: {{duration_s: 32, drain_s: 2}}
"""
AGGRESSIVE = "{share: 1.0, max_attempts: 20, think: {kind: immediate}}"
BACKOFF = "{share: 1.0, max_attempts: 3, think: {kind: exponential, base_s: 1, cap_s: 8, jitter: 0.5}}"


@pytest.fixture(scope="module")
def recoveries(target_env, tmp_path_factory) -> dict[str, dict]:
    from authsurge.target import TargetOptions, running_target
    from tests.support.target import TEST_HASHER_ITERATIONS

    tmp = tmp_path_factory.mktemp("recovery")
    out = {}
    opts = TargetOptions(port=0, users=300, workers=1, threads=40, login_capacity=CAPACITY,
                         login_queue=int(2 * CAPACITY), hasher_iterations=TEST_HASHER_ITERATIONS,
                         data_dir=tmp / "target")
    with running_target(opts, log=lambda line: None) as target:
        for name, retry in (("aggressive", AGGRESSIVE), ("backoff", BACKOFF)):
            folder = tmp / name
            folder.mkdir()
            (folder / "surge.csv").write_text(TRACE)
            path = folder / "scenario.yaml"  # beside its trace
            path.write_text(SCENARIO.format(url=target.base_url, retry=retry))
            result = runner.run(runner.RunOptions(
                scenario=parse_scenario(path.read_text(), path), out_root=folder / "runs",
                progress=False, calibration=CalibrationInfo(capacity_rps=CAPACITY)))
            with analyze_run(Path(result.run_dir)) as analysis:
                out[name] = analysis.recovery
    return out


def test_sign_in_recovers_after_the_fall_with_backoff_and_jitter(recoveries):
    backoff = recoveries["backoff"]
    assert backoff["capacity_source"] == "calibration" and backoff["fell_below_at_s"] is not None
    assert backoff["recovered"] is True, backoff


def test_immediate_retries_keep_sign_in_down_measurably_longer_than_backoff(recoveries):
    aggressive, backoff = recoveries["aggressive"], recoveries["backoff"]
    print({k: (r["recovery_s"], r["metastable"], r["retry_share_after_fall"])
           for k, r in recoveries.items()})
    if aggressive["recovered"]:
        assert aggressive["recovery_s"] >= backoff["recovery_s"] + 3.0, recoveries
    else:
        assert aggressive["metastable"] is True, aggressive
    assert aggressive["retry_share_after_fall"] > backoff["retry_share_after_fall"]
