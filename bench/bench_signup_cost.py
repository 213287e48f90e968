"""What each sign-up and sign-in step costs the embedded target (issue 18): target CPU per
request, from the cost model on a mix whose journey types vary on their own.

    python bench/bench_signup_cost.py [--run-s 120] [--json OUT]

A fresh embedded target with --signup (django-allauth; 2 workers x 4 threads; the default
PBKDF2 cost) sends its mail to the run's own mail sink; `scenarios/signup_varying.yaml`
(sign-ups that never verify, verified sign-ups that sign in with the password, by
e-mailed code or by e-mailed link, returning people) runs far below capacity. The
cost model (authsurge.analysis.cost) attributes the target's CPU to the steps; steps the
same journeys always make together stay one unit. Where there are 2+ cores the target is
pinned to CPU 1 and the harness (and the mail sink) to CPU 0.

Target: the model fits (R^2 >= 0.8) and signup.submit (a password hash, the account and
its e-mail address written, a mail sent) costs more per request than login.submit (one
hash): the reason a surge of new people breaks sign-in sooner.
"""

from __future__ import annotations

import locust  # noqa: F401 - gevent must patch ssl/socket before anything imports them

import argparse
import json
import logging
import os
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Any

from authsurge import run as runner
from authsurge.analysis import analyze_run
from authsurge.cpu_affinity import can_pin, pin_process
from authsurge.scenario import load_scenario
from authsurge.target import CLIENT_SECRET_ENV, PASSWORD_ENV, TargetOptions, start_target

TARGET_CPU, HARNESS_CPU = 1, 0
USERS = 200
MIN_R2 = 0.8
SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "signup_varying.yaml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def units(run_dir: Path) -> dict[str, Any]:
    doc = analyze_run(run_dir).to_json()
    cost = next(c for c in doc["cost"] if c["resource"] == "target CPU")
    return {"fitted": cost["fitted"], "r2": cost["r2"], "samples": cost["samples"],
            "units": {"+".join(u["steps"]): (u["cost_per_request"], u["interval"])
                      for u in cost["units"]}}


def cost_of(found: dict[str, Any], step: str) -> float:
    return next((c for name, (c, _) in found["units"].items() if step in name.split("+")),
                float("nan"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run-s", type=int, default=120, help="seconds of load")
    parser.add_argument("--json", type=Path, help="write the result rows here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="    %(levelname)s %(name)s: %(message)s")
    os.environ[PASSWORD_ENV] = "bench-signup-password"  # bench values, never a real secret
    os.environ[CLIENT_SECRET_ENV] = "bench-signup-client-secret"
    pin = can_pin()
    if pin:
        pin_process(os.getpid(), {HARNESS_CPU})
    work = Path(tempfile.mkdtemp(prefix="authsurge-bench-signup-"))
    smtp = free_port()
    print(f"bench_signup_cost: {args.run_s} s; pinning "
          f"{'target CPU 1, harness CPU 0' if pin else 'off'}; work dir {work}", flush=True)
    try:
        target = start_target(TargetOptions(port=0, users=USERS, workers=2, threads=4,
                                            data_dir=work / "target", signup=True, smtp_port=smtp,
                                            startup_timeout_s=120), log=lambda line: None)
        try:
            if pin:
                for pid in target.pids():
                    pin_process(pid, {TARGET_CPU})
            scenario = load_scenario(SCENARIO, [f"target.base_url={target.base_url}",
                                                f"flows.mail.sink.smtp_port={smtp}",
                                                f"run.duration_s={args.run_s}"])
            result = runner.run(runner.RunOptions(scenario=scenario, out_root=work / "runs",
                                                  progress=False, target_pids=target.pids()))
        finally:
            target.stop()
        found = units(Path(result.run_dir))
        print(f"cost model: R^2 {found['r2']}, {found['samples']} samples", flush=True)
        for name, (cost, (low, high)) in sorted(found["units"].items(), key=lambda kv: -kv[1][0]):
            print(f"  {name}: {cost:.2f} [{low:.2f}-{high:.2f}] CPU-ms/request", flush=True)
        signup, login = cost_of(found, "signup.submit"), cost_of(found, "login.submit")
        rows = [
            {"metric": "cost model fit", "value": found["r2"], "unit": "R^2",
             "target": f">= {MIN_R2}", "meets_target": (found["r2"] or 0) >= MIN_R2},
            {"metric": "signup.submit vs login.submit", "value": round(signup / login, 2),
             "unit": f"x ({signup:.1f} vs {login:.1f} CPU-ms/request, with the steps of "
                     "their units)",
             "target": "> 1", "meets_target": signup > login},
        ]
        for row in rows:
            print(f"{row['metric']}: {row['value']} {row['unit']} -> "
                  f"{'met' if row['meets_target'] else 'MISSED'}", flush=True)
        if args.json:
            args.json.write_text(json.dumps({"benchmark": "signup_cost", "rows": rows,
                                             "units": found["units"]}, indent=2) + "\n")
        return 0 if all(r["meets_target"] for r in rows) else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
