"""Real runs for the sizing and `plan` known answers, made once per session.

One target (2 workers x 2 threads) pinned to one core with the harness on the other
(`pinned_apart`, as `taskset` would), two ramps to past its knee:

- `mix_a`: about 20% of the people sign in and 80% only open the login page, the share
  rising and falling on its own (the cost model can tell login.form from login.submit);
- `mix_b`: half sign in, half only open the page, steadily: a different mix, whose knee
  `plan` predicts from `mix_a` alone.

Loads are set from a PBKDF2 timing taken here with hashlib, so both runs pass their knee
on a fast or a slow machine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from authsurge.cpu_affinity import pinned_apart
from authsurge.pbkdf2 import REFERENCE_ITERATIONS, hash_ms, iterations_for
from tests.support.real import run_against, start

HASH_MS = 20.0
OVERHEAD_MS = 4.0  # a login page and a journey's other work, roughly (no hash)
# every journey holds an account while in flight: a 2-s timeout x the top rate, and more,
# or arrivals are dropped for want of one and the knee's surge reads high (a first try
# with 200 dropped 20-30%)
ACCOUNTS = 800
CALM_S, RAMP_S = 10, 40
SHARE_A, SWING_A = 0.2, 0.1  # mix_a: sign-in share 20% +/- 10%, period 7 s
SHARE_B = 0.5

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


def knee_estimate(share: float, one_hash_ms: float) -> float:
    """Journeys/s one core serves at this sign-in share (a rough plan for the ramp)."""
    return 1000.0 / (share * one_hash_ms * 1.5 + OVERHEAD_MS)  # the target's hash costs more


def ramp(path: Path, share: float, swing: float, low: float, high: float) -> Path:
    rows = ["t_s,browse,sign_in"]
    for t in range(CALM_S + RAMP_S + 1):
        total = low + (high - low) * min(max(t - CALM_S, 0), RAMP_S) / RAMP_S
        s = share + swing * math.sin(2 * math.pi * t / 7)
        rows.append(f"{t},{total * (1 - s):.3f},{total * s:.3f}")
    path.write_text("\n".join(rows) + "\n")
    return path


def sizing_runs(seed_from: Path, tmp: Path) -> SizingRuns:
    iterations = iterations_for(HASH_MS)
    one = hash_ms(iterations)
    proc = start(seed_from, tmp / "target-sizing", workers=2, threads=2,
                 hasher_iterations=iterations, users=ACCOUNTS)
    try:
        runs = []
        reference = 1000.0 / hash_ms(REFERENCE_ITERATIONS)
        with pinned_apart(proc.pids()):  # the target on one core, the harness on the other
            for name, share, swing in (("mix-a", SHARE_A, SWING_A), ("mix-b", SHARE_B, 0.0)):
                k = knee_estimate(share, one)
                trace = ramp(tmp / f"{name}.csv", share, swing, 0.3 * k, 2.0 * k)
                body = SCENARIO.format(accounts=ACCOUNTS, trace=trace, seconds=CALM_S + RAMP_S)
                runs.append(run_against(proc, body, tmp, name, timeout_s=2))
    finally:
        proc.stop()
    return SizingRuns(runs[0], runs[1], one, reference)
