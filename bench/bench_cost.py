"""How well the cost model recovers a known cost: PBKDF2 on the embedded target.

    python bench/bench_cost.py [--hash-ms 0,10,20,40] [--run-s 45] [--json OUT]

For each hash cost H (0 means --hasher-iterations 1), the iteration count that costs H ms
here is found with hashlib, a fresh embedded target (2 workers x 4 threads) is started with
it, and `scenarios/varying_mix.yaml` (three journey types whose shares vary on their own: open the login page
and leave; sign in; sign in, call the API, sign out) runs far below capacity. The cost model
(authsurge.analysis.cost) attributes the target's CPU to the steps; login.submit's CPU-ms
per request minus the same at one iteration is compared with what one hash cost inside the
target: its hasher adds up each hash's thread CPU (authsurge.target.hash_cpu). The hashlib
timing is printed beside it, to show how much dearer a hash is in the loaded target.
Where there are 2+ cores the target is pinned to CPU 1 and the harness to CPU 0.

Target: within +/-15% of the hash the target measured at every H tested (the known-answer test in
tests/integration/analysis/test_cost_real.py checks two values; this sweeps more, with longer runs).
"""

from __future__ import annotations

import locust  # noqa: F401 - gevent must patch ssl/socket before anything imports them

import argparse
import json
import logging
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from machine import copy_data_dir  # bench/ is sys.path[0] when run

from authsurge import run as runner
from authsurge.analysis import analyze_run
from authsurge.cpu_affinity import can_pin, pin_process
from authsurge.pbkdf2 import hash_ms, iterations_for
from authsurge.scenario import load_scenario
from authsurge.target import CLIENT_SECRET_ENV, PASSWORD_ENV, TargetOptions, start_target
from authsurge.target.hash_cpu import read_hash_cpu

TARGET_CPU, HARNESS_CPU = 1, 0
USERS = 100
TOLERANCE = 0.15


VARYING_MIX = Path(__file__).resolve().parents[1] / "scenarios" / "varying_mix.yaml"


def submit_cost(run_dir: Path) -> dict[str, Any]:
    doc = analyze_run(run_dir).to_json()
    cost = next(c for c in doc["cost"] if c["resource"] == "target CPU")
    unit = next((u for u in cost["units"] if u["steps"] == ["login.submit"]), None)
    return {"fitted": cost["fitted"], "r2": cost["r2"], "samples": cost["samples"],
            "cost": unit["cost_per_request"] if unit else math.nan,
            "interval": unit["interval"] if unit else [math.nan, math.nan]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hash-ms", default="0,10,20,40", help="hash costs to test (ms)")
    parser.add_argument("--run-s", type=int, default=45, help="seconds of load per run")
    parser.add_argument("--json", type=Path, help="write the result rows here")
    args = parser.parse_args()
    costs = sorted({float(x) for x in args.hash_ms.split(",")} | {0.0})
    logging.basicConfig(level=logging.WARNING, format="    %(levelname)s %(name)s: %(message)s")
    # bench values, never a real secret from the caller's environment
    os.environ[PASSWORD_ENV] = "bench-cost-password"
    os.environ[CLIENT_SECRET_ENV] = "bench-cost-client-secret"
    pin = can_pin()
    if pin:
        pin_process(os.getpid(), {HARNESS_CPU})
    work = Path(tempfile.mkdtemp(prefix="authsurge-bench-cost-"))
    print(f"bench_cost: hash costs {costs} ms, {args.run_s} s each; pinning "
          f"{'target CPU 1, harness CPU 0' if pin else 'off'}; work dir {work}", flush=True)
    try:
        seed = work / "seed"
        start_target(TargetOptions(port=0, users=USERS, data_dir=seed, startup_timeout_s=60),
                     log=lambda line: None).stop()
        measured: dict[float, dict[str, Any]] = {}
        for ms in costs:
            n = iterations_for(ms)
            data_dir = work / f"target-{n}"
            copy_data_dir(seed, data_dir)
            target = start_target(TargetOptions(port=0, users=USERS, workers=2, threads=4,
                                                hasher_iterations=n, data_dir=data_dir,
                                                startup_timeout_s=120), log=lambda line: None)
            try:
                if pin:
                    for pid in target.pids():
                        pin_process(pid, {TARGET_CPU})
                scenario = load_scenario(VARYING_MIX, [f"target.base_url={target.base_url}",
                                                       f"credentials.count={USERS}",
                                                       f"run.duration_s={args.run_s}"])
                result = runner.run(runner.RunOptions(scenario=scenario,
                                                      out_root=work / "runs", progress=False,
                                                      target_pids=target.pids()))
            finally:
                target.stop()
            measured[ms] = {"iterations": n, "timed_ms": hash_ms(n), "target_ms": read_hash_cpu(data_dir).mean_ms,
                            **submit_cost(Path(result.run_dir))}
            m = measured[ms]
            print(f"  {ms:g} ms: {n} iterations, hashlib {m['timed_ms']:.2f} ms, in the target "
                  f"{m['target_ms']:.2f} CPU-ms; login.submit "
                  f"{m['cost']:.2f} [{m['interval'][0]:.2f}-{m['interval'][1]:.2f}] CPU-ms/request "
                  f"(R^2 {m['r2']}, {m['samples']} samples)", flush=True)
        base = measured[0.0]
        rows = []
        for ms, m in measured.items():
            if ms == 0.0:
                continue
            attributed = m["cost"] - base["cost"]
            inside = m["target_ms"] - base["target_ms"]
            timed = m["timed_ms"] - base["timed_ms"]
            error = attributed / inside - 1
            rows.append({"metric": f"hash {ms:g} ms: attributed minus 1 iteration", "value": round(attributed, 2),
                         "unit": f"CPU-ms (in the target {inside:.2f}, hashlib {timed:.2f}; error {error:+.1%})",
                         "target": f"within +/-{TOLERANCE:.0%}", "meets_target": abs(error) <= TOLERANCE})
        for row in rows:
            print(f"{row['metric']}: {row['value']} {row['unit']} -> "
                  f"{'met' if row['meets_target'] else 'MISSED'}", flush=True)
        if args.json:
            args.json.write_text(json.dumps({"benchmark": "cost", "rows": rows}, indent=2) + "\n")
        return 0 if all(r["meets_target"] for r in rows) else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
