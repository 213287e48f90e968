"""Real runs for the sizing and `plan` known answers, made once per session.

One target (2 workers x 2 threads) pinned to one core with the harness on the other
(`pinned_apart`, as `taskset` would), two ramps to past its knee:

- `mix_a`: about 20% of the people sign in and 80% only open the login page, the share
  rising and falling below the knee (the cost model can tell login.form from
  login.submit), steady past it;
- `mix_b`: half sign in, half only open the page, steadily: a different mix, whose knee
  `plan` predicts from `mix_a` alone.

Each ramp is set from what a sign-in costs its target just before it: a 4-s probe at
5 sign-ins/s on the pinned target (after another that warms it up), its CPU read by PID. So both runs pass their knee on a
fast or a slow machine: this VM's speed wanders (17 to 32 hashes/s from one second to the
next, and a run's mean by up to ~2x from the next run's; a ramp set from a hashlib timing
taken minutes before topped out below the knee on a fast spell, its target hashing in
22.7 ms where hashlib had said 29). For the same reason each run gets a target of its own
and records what its hashes cost there, measured inside the target
(authsurge.target.hash_cpu): the speed each run was measured at.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from pathlib import Path

import psutil

from authsurge.cpu_affinity import pinned_apart
from authsurge.pbkdf2 import REFERENCE_ITERATIONS, hash_ms, iterations_for
from authsurge.target import TargetProcess
from authsurge.target.hash_cpu import read_hash_cpu
from tests.support.real import run_against, start
from tests.support.runner import records

# login.submit dominates the CPU by far (0.2 x ~45 ms against ~4 ms a page): at 20 ms, a
# fast spell of this VM (16 ms hashes) made login.form the larger share
HASH_MS = 30.0
PAGE_MS = 4.0  # a login page, roughly (a probe of sign-ins cannot tell it apart)
# every journey holds an account while in flight: a 2-s timeout x the top rate, and more,
# or arrivals are dropped for want of one and the knee's surge reads high (a first try
# with 200 dropped 20-30%)
ACCOUNTS = 800
CALM_S, RAMP_S = 10, 40
SHARE_A, SWING_A = 0.2, 0.1  # mix_a: sign-in share 20% +/- 10%, period 7 s
SHARE_B = 0.5
# the ramp's top, x the estimate (the knee came at 0.9-1.2x of an estimate from hashlib;
# at 1.6x a fast spell of this VM passed no knee)
TOP = 2.0
PROBE_RATE, PROBE_S = 5, 4

PROBE = """
credentials: {{count: {accounts}}}
journeys:
  sign_in: {{steps: [form_login]}}
traffic: {{model: open, shape: {{kind: steady, rate: {rate}}}, arrivals: uniform}}
run: {{duration_s: {seconds}, drain_s: 2}}
"""

SCENARIO = """
credentials: {{count: {accounts}}}
journeys:
  browse: {{steps: [form_login], abandon_after: login.form}}
  sign_in: {{steps: [form_login]}}
traffic:
  model: open
  shape: {{kind: trace, file: "{trace}", columns: {{browse: browse, sign_in: sign_in}}}}
  arrivals: poisson
analysis: {{settle_s: 0}}
run: {{duration_s: {seconds}, drain_s: 2}}
"""


@dataclass(frozen=True)
class SizingRuns:
    mix_a: Path
    mix_b: Path
    hash_ms: float  # hashlib's PBKDF2 of the target's iterations, on this machine
    # hashlib's reference rate (hashes/s) read just before mix_a starts, beside the run's own
    # reading: this VM's speed wanders by a third within minutes (18 vs 28 hashes/s in a CI run)
    reference_rate: float
    # CPU-ms of one of the target's hashes during mix_a and during mix_b (their thread CPU,
    # summed by the target's hasher): the ratio is how much faster the machine ran one
    hash_ms_a: float
    hash_ms_b: float

    @property
    def speed_b_over_a(self) -> float:
        """How much faster the target's core ran during mix_b than during mix_a."""
        return self.hash_ms_a / self.hash_ms_b


def knee_estimate(share: float, sign_in_ms: float) -> float:
    """Journeys/s one core serves at this sign-in share (a plan for the ramp), from a
    sign-in's target CPU-ms."""
    return 1000.0 / (share * sign_in_ms + (1 - share) * PAGE_MS)


def sign_in_cpu_ms(proc: TargetProcess, tmp: Path, name: str) -> float:
    """Target CPU-ms per sign-in journey (page and password), now: a short probe far below
    the knee, the target's CPU read by PID before and after."""
    (tmp / "probes").mkdir(exist_ok=True)
    probe = PROBE.format(accounts=ACCOUNTS, rate=PROBE_RATE, seconds=PROBE_S)
    # a fresh target's first sign-ins cost it ~1.5x more (Django's first requests: imports,
    # templates, connections): those of a first probe are not counted
    run_against(proc, probe, tmp / "probes", f"{name}-warm-up", timeout_s=2)
    before = cpu_seconds(proc.pids())
    run_dir = run_against(proc, probe, tmp / "probes", f"{name}-probe", timeout_s=2)
    spent = cpu_seconds(proc.pids()) - before
    rows = records(run_dir)
    signed_in = int(((rows["kind"] == "journey") & (rows["outcome"] == "ok")).sum())
    assert signed_in >= PROBE_RATE * PROBE_S // 2, f"the probe signed in {signed_in}"
    return spent * 1000 / signed_in


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            times = psutil.Process(pid).cpu_times()
            total += times.user + times.system
    return total


def ramp(path: Path, share: float, swing: float, low: float, high: float) -> Path:
    """The calm, then the ramp; the share swings (period 7 s) only in the calm and the
    ramp's first third, well below the knee: there the cost model tells the steps apart,
    and the knee is judged on a steady mix. (Swinging to the end, login.submit's knee came
    on the swing's bursts at 73-82% CPU, and `plan` read it as a limit of its own.)"""
    rows = ["t_s,browse,sign_in"]
    for t in range(CALM_S + RAMP_S + 1):
        total = low + (high - low) * min(max(t - CALM_S, 0), RAMP_S) / RAMP_S
        swinging = t < CALM_S + RAMP_S // 3
        s = share + (swing * math.sin(2 * math.pi * t / 7) if swinging else 0.0)
        rows.append(f"{t},{total * (1 - s):.3f},{total * s:.3f}")
    path.write_text("\n".join(rows) + "\n")
    return path


def sizing_runs(seed_from: Path, tmp: Path) -> SizingRuns:
    iterations = iterations_for(HASH_MS)
    one = hash_ms(iterations)
    reference = 1000.0 / hash_ms(REFERENCE_ITERATIONS)
    runs, hashes = [], []
    for name, share, swing in (("mix-a", SHARE_A, SWING_A), ("mix-b", SHARE_B, 0.0)):
        # a target per run: its workers write what their hashes cost as they exit
        data_dir = tmp / f"target-sizing-{name}"
        proc = start(seed_from, data_dir, workers=2, threads=2,
                     hasher_iterations=iterations, users=ACCOUNTS)
        try:
            with pinned_apart(proc.pids()):  # the target on one core, the harness on the other
                k = knee_estimate(share, sign_in_cpu_ms(proc, tmp, name))
                trace = ramp(tmp / f"{name}.csv", share, swing, 0.3 * k, TOP * k)
                body = SCENARIO.format(accounts=ACCOUNTS, trace=trace, seconds=CALM_S + RAMP_S)
                runs.append(run_against(proc, body, tmp, name, timeout_s=2))
        finally:
            proc.stop()
        measured = read_hash_cpu(data_dir)
        assert measured.workers == 2 and measured.hashes > 0, measured
        hashes.append(measured.mean_ms)
    return SizingRuns(runs[0], runs[1], one, reference, hashes[0], hashes[1])
