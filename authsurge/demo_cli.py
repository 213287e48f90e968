"""`authsurge demo` (and `make demo`): its flags; the work is authsurge.demo's."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

# the demo's defaults (authsurge.demo imports no load-generating code at module level)
from authsurge.demo import DEMO_HASHER_ITERATIONS, DEMO_SCENARIO, DemoOptions
from authsurge.target.options import TOPOLOGIES


def add_demo_parser(sub: Any) -> None:
    p = sub.add_parser(
        "demo",
        help="the seed incident on this machine: serve the embedded target, measure its "
        "sign-in capacity, replay the surge at a multiple of it (the scenario's "
        "auto_peak_multiple), analyze, say the answer, stop",
    )
    p.add_argument(
        "--scenario",
        type=Path,
        default=DEMO_SCENARIO,
        help=f"a trace scenario (default {DEMO_SCENARIO})",
    )
    p.add_argument("--out", type=Path, default=Path("runs"), help="runs root (default runs)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument(
        "--topology",
        choices=TOPOLOGIES,
        default=DemoOptions.topology,
        help="the embedded target's topology: split (default; the API in its own pool "
        "behind nginx) or shared (one pool: the API queues behind the sign-ins)",
    )
    p.add_argument(
        "--target-workers",
        type=int,
        default=DemoOptions.target_workers,
        metavar="N",
        help=f"gunicorn workers of the target's auth pool (default {DemoOptions.target_workers})",
    )
    p.add_argument(
        "--hasher-iterations",
        type=int,
        default=DEMO_HASHER_ITERATIONS,
        metavar="N",
        help="PBKDF2 iterations of the demo target: the cost of one sign-in "
        f"(default {DEMO_HASHER_ITERATIONS})",
    )
    p.add_argument(
        "--capacity",
        type=float,
        default=None,
        metavar="R",
        help="skip the measurement: the target signs in R people a second (from an earlier demo)",
    )
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from authsurge.demo import run_demo  # looked up at call time (tests replace it)

    return run_demo(
        DemoOptions(
            scenario=args.scenario,
            out_root=args.out,
            overrides=tuple(args.overrides),
            topology=args.topology,
            target_workers=args.target_workers,
            hasher_iterations=args.hasher_iterations,
            progress=not args.no_progress,
            capacity=args.capacity,
        )
    )
