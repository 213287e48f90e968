"""`make demo`: serve the embedded target, run the demo surge against it, analyze, always stop it."""

from __future__ import annotations

import os
from pathlib import Path

from authsurge.errors import ExitStatus


def run_demo(
    scenario_path: Path, out_root: Path, overrides: list[str], *, progress: bool = True
) -> int:
    from authsurge import run as runner  # locust first: it monkey-patches sockets
    from authsurge.scenario import load_scenario
    from authsurge.target import (
        CLIENT_SECRET_ENV,
        DEMO_CLIENT_SECRET,
        DEMO_PASSWORD,
        PASSWORD_ENV,
        TargetOptions,
        running_target,
    )

    # The demo target and the harness must agree on the demo credentials; real runs export their own.
    os.environ.setdefault(PASSWORD_ENV, DEMO_PASSWORD)
    os.environ.setdefault(CLIENT_SECRET_ENV, DEMO_CLIENT_SECRET)

    scenario = load_scenario(scenario_path, overrides)  # bad input fails before anything starts
    options = TargetOptions(port=0, data_dir=Path(".authsurge/demo-target"))
    say(
        f"starting the embedded target (Django + django-oauth-toolkit, data in {options.data_dir}) ..."
    )
    with running_target(options) as target:
        say(f"target up at {target.base_url} (PIDs {target.pids()})")
        scenario = load_scenario(scenario_path, [*overrides, f"target.base_url={target.base_url}"])
        result = runner.run(
            runner.RunOptions(
                scenario=scenario,
                out_root=out_root,
                target_pids=target.pids(),
                command="make demo",
                progress=progress,
            )
        )
    say(f"target stopped; run directory: {result.run_dir} ({result.status})")
    if result.status not in ("complete", "aborted"):
        return ExitStatus.INTERRUPTED if result.status == "interrupted" else ExitStatus.RUN_FAILED
    from authsurge.report.terminal import analyze_to_terminal

    status = analyze_to_terminal(result.run_dir, as_json=False, plots=True)
    if result.status == "aborted":  # a scenario's run.abort_on held: a gate that failed
        status = ExitStatus.GATE_FAILED
    report = _report(result.run_dir)
    say("")
    say(f"run directory: {result.run_dir}")
    say(f"plots:         {result.run_dir / 'plots'}")
    if report:
        say(f"report:        {report}")
    return status


def _report(run_dir: Path) -> Path | None:
    try:
        from authsurge.report.html_report import write_report
    except ImportError:  # the HTML report is optional until it is built
        return None
    return write_report(run_dir)


def say(text: str) -> None:
    print(text, flush=True)
