"""The `authsurge` command: parses arguments, calls the library, maps errors to exit codes.

Exit codes (also in the README): 0 success; 1 a gate failed (an SLO, run.abort_on, a
regression in compare) and nothing else; 2 bad input (usage, scenario, trace, run
directory, unreachable target, port in use): nothing was run; 3 the harness failed (an
internal error: one line, the traceback in a log file, authsurge.crashlog; or a failed
run); 130 interrupted by Ctrl-C or the web UI's Stop (the run directory is written).
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from authsurge import __version__, crashlog
from authsurge.demo_cli import add_demo_parser
from authsurge.errors import AuthsurgeError, ExitStatus
from authsurge.live_cli import add_live_arguments
from authsurge.plan_cli import add_plan_parser, add_sizing_args

if TYPE_CHECKING:
    from authsurge.scenario import Scenario

log = logging.getLogger("authsurge")

EPILOG = """exit codes:
  0    ok
  1    a gate failed (SLO breached, run.abort_on held, compare found a regression), and nothing else
  2    bad input, nothing run (usage, scenario, unreachable target, port in use);
       for `target status`: no target runs or it does not answer /healthz
  3    the harness failed: an internal error (one line on stderr, the full traceback
       in authsurge-error.log in the run directory, or in the temp dir), or a run
       that failed (run directory kept)
  130  interrupted (run directory kept)"""
COMPARE_EPILOG = """a difference is better/worse when its bootstrap interval excludes 0, it is at least
--min-effect, and (latency) the Mann-Whitney U test agrees; see authsurge.analysis.compare.
exit codes: 0 no regression, 1 regression (with --fail-on regression) and nothing else,
2 bad input, 3 internal error (one line on stderr, the full traceback in
CANDIDATE/authsurge-error.log, or in the temp dir)"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="authsurge",
        description="Load-test authentication paths the way an App-Store surge hits them.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"authsurge {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "run",
        help="run a scenario against a target and write a run directory",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("scenario", type=Path, help="scenario YAML file")
    p.add_argument("--target", metavar="URL", help="target base URL (overrides target.base_url)")
    p.add_argument(
        "--duration", type=float, metavar="S", help="run bound in seconds (run.duration_s)"
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("runs"),
        metavar="DIR",
        help="folder for run directories (default: runs/)",
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario value, e.g. --set traffic.shape.rate=20 (repeatable)",
    )
    p.add_argument(
        "--rate-scale",
        metavar="X|auto",
        help="scale a trace's rates; 'auto' measures login capacity first (calibrate)",
    )
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="local Locust worker processes (0: one per core; default: scenario's run.workers)",
    )
    p.add_argument(
        "--target-pid",
        type=int,
        action="append",
        default=[],
        metavar="PID",
        help="sample CPU/RSS of this target process and its children (repeatable)",
    )
    p.add_argument("--no-progress", action="store_true", help="no live progress line")
    p.add_argument("--analyze", action="store_true", help="analyze the run when it ends")
    add_live_arguments(p)
    dist = p.add_argument_group("several machines (Locust master/worker)")
    dist.add_argument(
        "--master",
        action="store_true",
        help="be the master and wait for remote workers (see `authsurge worker`)",
    )
    dist.add_argument(
        "--expect-workers",
        type=int,
        default=1,
        metavar="N",
        help="with --master: workers to wait for",
    )
    dist.add_argument(
        "--master-bind",
        default="0.0.0.0:5557",
        metavar="HOST:PORT",
        help="with --master: where workers connect (default 0.0.0.0:5557)",
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "worker", help="be a load-generating worker of a remote `authsurge run --master`"
    )
    p.add_argument("--master-host", default="127.0.0.1")
    p.add_argument("--master-port", type=int, default=5557)
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("validate", help="check a scenario file without running it")
    p.add_argument("scenario", type=Path)
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser(
        "analyze", help="capacity curves, knees and first-to-fail for a run directory"
    )
    p.add_argument("run_dir", type=Path)
    p.add_argument("--json", action="store_true", help="print the analysis as JSON (stable schema)")
    p.add_argument("--no-plots", action="store_true", help="skip writing plots")
    add_sizing_args(p)
    p.set_defaults(func=cmd_analyze)
    add_plan_parser(sub)

    p = sub.add_parser(
        "report", help="a self-contained HTML report of a run (and a one-page summary)"
    )
    p.add_argument("run_dir", type=Path)
    p.add_argument(
        "-o",
        "--out",
        type=Path,
        metavar="FILE",
        help="report file (default: RUN_DIR/report.html; with --summary: a folder, default RUN_DIR)",
    )
    p.add_argument(
        "--baseline",
        type=Path,
        metavar="RUN_DIR",
        help="an earlier run of the same scenario: adds a comparison (see `authsurge compare`)",
    )
    p.add_argument(
        "--summary",
        action="store_true",
        help="write the one-page leadership summary (summary.md, summary.pdf) instead",
    )
    p.add_argument(
        "--force", action="store_true", help="with --baseline: compare even different scenarios"
    )
    p.set_defaults(func=cmd_report)

    p = sub.add_parser(
        "compare",
        help="is a candidate run better, worse or unchanged against a base run?",
        epilog=COMPARE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("base", type=Path, help="base run directory (e.g. the last release)")
    p.add_argument("candidate", type=Path, help="candidate run directory")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.add_argument(
        "--fail-on",
        choices=("regression", "none"),
        default="regression",
        help="exit 1 when a step is detectably worse (default), or never",
    )
    p.add_argument(
        "--force", action="store_true", help="compare runs of different scenarios anyway"
    )
    p.add_argument(
        "--confidence",
        type=float,
        default=0.95,
        metavar="P",
        help="confidence level of the bootstrap intervals (default 0.95)",
    )
    p.add_argument(
        "--min-effect",
        type=float,
        default=0.10,
        metavar="SHARE",
        help="smallest relative change called better/worse (default 0.10 = 10%%)",
    )
    p.add_argument(
        "--run-to-run",
        action="append",
        default=[],
        metavar="QUANTITY=SHARE",
        help="how much a quantity (knee, capacity, goodput, p50, p95, p99) moves between two "
        "runs of one release, e.g. capacity=0.05 (repeatable; 'none': trust single runs); "
        "default: measured on the embedded target by `make bench-compare`, see the README",
    )
    p.add_argument("--plot", type=Path, metavar="FILE", help="write the comparison figure (PNG)")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("runs", help="list run directories (and plot capacity across them)")
    p.add_argument(
        "--root", type=Path, default=Path("runs"), help="folder of run directories (default: runs/)"
    )
    p.add_argument("--scenario", metavar="NAME", help="only runs of this scenario")
    p.add_argument(
        "--target",
        metavar="TEXT",
        help="only runs whose target URL contains TEXT (or version is TEXT)",
    )
    p.add_argument(
        "--trend",
        type=Path,
        metavar="FILE",
        help="plot each step's capacity at the knee across the (analysed) runs (PNG/SVG)",
    )
    p.set_defaults(func=cmd_runs)

    add_demo_parser(sub)

    from authsurge.target.cli import add_target_parser

    add_target_parser(sub)
    return parser


def cmd_validate(args: argparse.Namespace) -> int:
    from authsurge.scenario import load_scenario
    from authsurge.traffic import build_plan, curves_for
    from authsurge.traffic.schedule import plan_text, totp_warning

    scenario = load_scenario(args.scenario, args.overrides)
    shape = scenario.traffic.shape
    if shape is not None and not (getattr(shape, "rate_scale", 1.0) == "auto"):
        curves = curves_for(scenario)
        plan = build_plan(
            curves, scenario.traffic.arrivals, scenario.traffic.seed, scenario.run.max_journeys
        )
        peak = sum(c.peak() for c in curves.values())
        bounds = scenario.run
        print(
            f"{args.scenario}: ok - {len(scenario.journeys)} journey(s), "
            + plan_text(plan, peak, bounds.duration_s, bounds.max_journeys)
        )
        if (warning := totp_warning(scenario, curves)) is not None:
            print(f"  warning: {warning}")
    else:
        print(f"{args.scenario}: ok")
    if (population := scenario.population) is not None:
        print(
            f"  and {population.size:,} people signed in by a {population.warmup_s:g}-s warm-up "
            f"before the clock starts, calling the API {population.api_rate:g}/s each"
        )
    return ExitStatus.SUCCESS


def _scenario_for_run(args: argparse.Namespace) -> Scenario:
    from authsurge.scenario import load_scenario

    overrides = list(args.overrides)
    if getattr(args, "target", None):
        overrides.append(f"target.base_url={args.target}")
    if getattr(args, "duration", None) is not None:
        overrides.append(f"run.duration_s={args.duration}")
    if getattr(args, "workers", None) is not None:
        overrides.append(f"run.workers={args.workers}")
    return load_scenario(args.scenario, overrides)


def cmd_run(args: argparse.Namespace) -> int:
    scenario = _scenario_for_run(args)
    from authsurge import run as runner  # imports locust, which monkey-patches: only when running

    rate_scale, calibration = None, None
    asked = args.rate_scale
    if asked is None and getattr(scenario.traffic.shape, "rate_scale", None) == "auto":
        asked = "auto"  # the scenario asks for calibration itself
    if asked is not None:
        if asked == "auto":
            from authsurge.calibrate import calibrate_rate_scale

            rate_scale, calibration = calibrate_rate_scale(scenario, progress=not args.no_progress)
        else:
            try:
                rate_scale = float(asked)
            except ValueError:
                raise AuthsurgeError(
                    f"--rate-scale: expected a number or 'auto', got {asked!r}"
                ) from None
    command = "authsurge " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    options = runner.RunOptions(
        scenario=scenario,
        out_root=args.out,
        target_pids=args.target_pid,
        rate_scale=rate_scale,
        calibration=calibration,
        command=command,
        progress=not args.no_progress,
    )
    options.web, options.metrics = args.web, args.metrics  # authsurge.live_cli
    if args.master:
        host, _, port = args.master_bind.rpartition(":")
        if not host or not port.isdigit() or args.expect_workers < 1:
            raise AuthsurgeError("--master-bind needs HOST:PORT and --expect-workers at least 1")
        options.expect_workers = args.expect_workers
        options.master_bind = (host, int(port))
    result = runner.run(options)
    print(f"run directory: {result.run_dir} ({result.status})")
    aborted = result.meta.get("aborted")
    if aborted:
        print(f"aborted by run.abort_on {aborted['condition']!r}: {aborted['measured']}")
    status = {
        "complete": ExitStatus.SUCCESS,
        "interrupted": ExitStatus.INTERRUPTED,
        "aborted": ExitStatus.GATE_FAILED,  # the abort condition is a gate that failed
    }.get(result.status, ExitStatus.RUN_FAILED)
    if status in (ExitStatus.SUCCESS, ExitStatus.GATE_FAILED) and (args.analyze or scenario.slos):
        from authsurge.report.terminal import analyze_to_terminal

        return max(status, analyze_to_terminal(result.run_dir, as_json=False, plots=True))
    return status


def cmd_analyze(args: argparse.Namespace) -> int:
    from authsurge.report.terminal import analyze_to_terminal

    return analyze_to_terminal(
        args.run_dir,
        as_json=args.json,
        plots=not args.no_plots,
        peak=args.peak,
        headroom=args.headroom,
    )


def cmd_report(args: argparse.Namespace) -> int:
    from authsurge.report.stage_progress import StageProgress

    with StageProgress(f"report {args.run_dir}") as progress:
        if args.summary:
            from authsurge.report.summary import write_summary

            files = write_summary(
                args.run_dir, args.out, baseline=args.baseline, force=args.force, progress=progress
            )
        else:
            from authsurge.report.html_report import write_report

            path = write_report(
                args.run_dir, args.out, baseline=args.baseline, force=args.force, progress=progress
            )
    if args.summary:
        print("\n\n".join(files.sentences))
        print(f"summary: {files.markdown}")
        print(f"summary: {files.pdf}" if files.pdf else f"note: {files.pdf_note}")
    else:
        print(f"report: {path}")
    return ExitStatus.SUCCESS


def cmd_compare(args: argparse.Namespace) -> int:
    from authsurge.analysis.compare import CompareRule, compare_dirs
    from authsurge.report.stage_progress import StageProgress

    rule = CompareRule(
        confidence=args.confidence,
        min_effect=args.min_effect,
        run_to_run=run_to_run_option(args.run_to_run),
    )
    with StageProgress("compare") as progress:
        comparison = compare_dirs(
            args.base, args.candidate, rule, force=args.force, progress=progress
        )
    doc = comparison.to_json()
    if args.plot:
        from authsurge.report.compare import comparison_figure, render_png

        base, cand = comparison.base.to_json(), comparison.candidate.to_json()
        args.plot.parent.mkdir(parents=True, exist_ok=True)
        args.plot.write_bytes(render_png(lambda: comparison_figure(doc, base, cand)))
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        from authsurge.report.compare import compare_text

        print(compare_text(doc))
        if args.plot:
            print(f"plot: {args.plot}")
    if args.fail_on == "regression" and comparison.regressions:
        return ExitStatus.GATE_FAILED
    return ExitStatus.SUCCESS


def run_to_run_option(values: list[str]) -> dict[str, float]:
    """--run-to-run QUANTITY=SHARE (repeatable) over the measured defaults; 'none': all 0."""
    from authsurge.analysis.compare import RUN_TO_RUN

    spread = dict(RUN_TO_RUN)
    for value in values:
        if value == "none":
            spread = dict.fromkeys(RUN_TO_RUN, 0.0)
            continue
        key, sep, share = value.partition("=")
        try:
            spread[key] = float(share)
        except ValueError:
            sep = ""
        if not sep:
            raise AuthsurgeError(f"--run-to-run: expected QUANTITY=SHARE or 'none', got {value!r}")
    return spread


def cmd_runs(args: argparse.Namespace) -> int:
    from authsurge.history import format_table, list_runs

    rows = list_runs(args.root, scenario=args.scenario, target=args.target)
    if not rows:
        print(
            f"no runs under {args.root}"
            + (" matching the filters" if args.scenario or args.target else "")
        )
        return ExitStatus.SUCCESS
    print(format_table(rows))
    if args.trend:
        from authsurge.report.trend import write_trend

        analysed = [r for r in rows if r["analysed"]]
        path = write_trend(analysed, args.trend)
        skipped = len(rows) - len(analysed)
        print(
            f"trend: {path} ({len(analysed)} analysed run(s)"
            + (f"; {skipped} never analysed, left out: `authsurge analyze` them" if skipped else "")
            + ")"
        )
    return ExitStatus.SUCCESS


def cmd_worker(args: argparse.Namespace) -> int:
    from authsurge.run.worker import serve

    return serve(args.master_host, args.master_port)


def command_name(args: argparse.Namespace) -> str:
    """The command as the user typed it: 'compare', 'target status'."""
    if args.command == "target":
        return f"target {args.target_command}"
    return str(args.command)


def crash_run_dir(args: argparse.Namespace) -> Path | None:
    """Where an internal error of this command logs its traceback: the run directory it
    reads or writes, when that exists (the temp dir otherwise)."""
    path: Path | None = None
    if args.command in ("analyze", "report"):
        path = args.run_dir
    elif args.command == "compare":
        path = args.candidate
    elif args.command in ("run", "demo"):
        path = crashlog.current_run_dir()  # registered by the runner once it made one
    return path if path is not None and Path(path).is_dir() else None


def main(argv: Sequence[str] | None = None) -> int:
    crashlog.set_run_dir(None)  # a run directory of an earlier main() in this process is not ours
    try:
        args = build_parser().parse_args(argv)
    except Exception as exc:  # SystemExit (usage: 2, --help: 0) passes as it is
        return crashlog.report_internal_error(exc, "argument parsing")
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    return crashlog.run_command(
        lambda: args.func(args), command_name(args), lambda: crash_run_dir(args)
    )


if __name__ == "__main__":
    sys.exit(main())
