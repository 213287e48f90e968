"""Real runs for the command tests, made once per session against the embedded target
(the `real_runs` fixture, tests/integration/cli/conftest.py).

The target runs in capacity mode (`--login-capacity`), a planted capacity: password
checks beyond it wait in a short queue or are refused, so the knee of `login.submit` is
known (PLANTED logins/s), whatever the machine's speed. Three runs of one step ramp
(form login, API call, logout) that crosses it:

- `base` and `rerun`: the same target, the same scenario (an A/A pair);
- `slower`: the login capacity planted 40% lower (a release that got worse).

The lowest level is too thin to judge a step (fewer than 30 requests in its windows),
as the first levels of real ramps are: the thin-point paths run for real here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from authsurge import run as runner
from authsurge.scenario import parse_scenario
from authsurge.target import TargetOptions, start_target
from tests.support.runner import scenario_text
from tests.support.target import TEST_HASHER_ITERATIONS, seed_data_dir

PLANTED = 10.0  # logins/s of the base target
SLOWER = 0.4  # the candidate's capacity is planted this much lower

RAMP = """
credentials: {count: 50}
journeys:
  web_login: {steps: [form_login, api, form_logout]}
traffic:
  model: open
  shape: {kind: step_ramp, start_rate: 4, step_rate: 4, step_s: 5, steps: 4}
  arrivals: poisson
analysis: {settle_s: 1}
run: {duration_s: 20, drain_s: 2}
"""


@dataclass(frozen=True)
class RealRuns:
    root: Path  # holds the three run directories (for `authsurge runs`)
    base: Path
    rerun: Path
    slower: Path


def _run(tmp: Path, capacity: float, root: Path, seed_from: Path) -> Path:
    data_dir = tmp / f"target-{capacity:g}-{len(list(tmp.iterdir()))}"
    data_dir.mkdir()
    seed_data_dir(seed_from, data_dir)
    # threads for the whole wait queue (capacity checks may wait 1 s): the planted capacity,
    # not the thread count, is what these runs must find
    opts = TargetOptions(port=0, users=50, workers=2, threads=4 + math.ceil(capacity),
                         login_capacity=capacity,
                         hasher_iterations=TEST_HASHER_ITERATIONS, data_dir=data_dir,
                         startup_timeout_s=30)
    proc = start_target(opts, log=lambda line: None)
    try:
        scenario = parse_scenario(scenario_text(proc.base_url, RAMP, name="real_ramp"),
                                  tmp / "real_ramp.yaml")
        result = runner.run(runner.RunOptions(scenario=scenario, out_root=root, progress=False,
                                              target_pids=[proc.pid]))
    finally:
        proc.stop()
    assert result.status == "complete", result
    return Path(result.run_dir)


def base_run(tmp: Path, seed_from: Path) -> Path:
    """One run of the ramp against the base target, under `tmp`."""
    return _run(tmp, PLANTED, tmp / "runs", seed_from)


def make_real_runs(tmp: Path, seed_from: Path) -> RealRuns:
    """The three runs under `tmp`, each against its own target seeded from `seed_from`."""
    root = tmp / "runs"
    base = base_run(tmp, seed_from)
    slower = _run(tmp, PLANTED * (1 - SLOWER), root, seed_from)
    rerun = _run(tmp, PLANTED, root, seed_from)
    return RealRuns(root, base, rerun, slower)
