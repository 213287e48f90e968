"""`authsurge plan` (what another mix or a bigger surge would do, from a run; nothing is
run) and the sizing flags `analyze` shares with it. The work is authsurge.analysis.plan's
and authsurge.analysis.sizing's."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from authsurge.analysis.sizing import DEFAULT_HEADROOM
from authsurge.errors import BadInput, ExitStatus

PLAN_EPILOG = """examples:
  authsurge plan runs/20261201T040000Z-surge --rate-scale 10      what does a 10x surge need
  authsurge plan RUN --peak 10000/s                               10,000 journeys/s, same mix
  authsurge plan RUN --scenario scenarios/other_mix.yaml          another mix at its own peak
exit codes: 0 predicted, 2 bad input (a step the run never measured, no cost model),
3 internal error"""


def peak_rate(text: str) -> float:
    """'10000', '10000/s' or '10,000/s' journeys/s."""
    try:
        value = float(text.removesuffix("/s").replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: a rate in journeys/s, e.g. 10000/s") from None
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"{text!r}: the peak must be above 0 and finite")
    return value


def headroom_share(text: str) -> float:
    """'150%' or '1.5': the share added on top of what the load needs."""
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: a share, e.g. 150% or 1.5") from None
    if not 0 <= value < math.inf:
        raise argparse.ArgumentTypeError(f"{text!r}: headroom must be 0 or more, and finite")
    return value


def add_sizing_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--peak",
        type=peak_rate,
        metavar="RATE",
        help="size for this surge peak in journeys/s (e.g. 10000/s; default: the run's planned peak)",
    )
    p.add_argument(
        "--headroom",
        type=headroom_share,
        default=DEFAULT_HEADROOM,
        metavar="SHARE",
        help="added on top of the vCPUs the peak needs (default 150%%, as Keycloak's guide advises)",
    )


def add_plan_parser(sub: Any) -> None:
    p = sub.add_parser(
        "plan",
        help="predict another mix or a bigger surge from a run (knees, first to fail, vCPUs); runs nothing",
        epilog=PLAN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    p.add_argument(
        "--scenario",
        type=Path,
        metavar="FILE",
        help="predict this scenario's mix at its planned peak (default: the run's own mix)",
    )
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--rate-scale", type=float, metavar="K", help="the mix's planned peak times K")
    add_sizing_args(p)
    p.add_argument("--json", action="store_true", help="print the prediction as JSON")
    p.set_defaults(func=cmd_plan)


def cmd_plan(args: argparse.Namespace) -> int:
    from authsurge.analysis import analyze_run
    from authsurge.analysis.plan import Mix, predict
    from authsurge.report.plan_text import plan_lines

    if args.rate_scale is not None and args.peak is not None:
        raise BadInput("--rate-scale and --peak both set the peak: give one")
    if args.rate_scale is not None and not 0 < args.rate_scale < math.inf:
        raise BadInput(f"--rate-scale {args.rate_scale:g}: must be above 0 and finite")
    mix = None
    if args.scenario is not None:
        from authsurge.scenario import load_scenario
        from authsurge.traffic.mix import peak_mix

        scenario = load_scenario(args.scenario, args.overrides)
        scaled = args.rate_scale is not None or args.peak is not None
        found = peak_mix(scenario, scaled)
        mix = Mix(found.rates, found.steps, f"{args.scenario}'s mix at its planned peak")
    with analyze_run(args.run_dir) as analysis:
        doc = analysis.to_json()
    reference = doc["sizing"]["reference"]
    plan = predict(
        doc,
        mix,
        peak=args.peak,
        rate_scale=args.rate_scale,
        headroom=args.headroom,
        reference=reference,
    )
    print(json.dumps(plan, indent=2) if args.json else "\n".join(plan_lines(plan)))
    return ExitStatus.SUCCESS
