"""`make demo`: the seed incident on any machine.

Serve the embedded target (split topology by default: the API in its own pool behind
nginx), measure its sign-in capacity here with the signed-in population's API load
running (authsurge.calibrate), replay the shipped surge scaled so that its peak is
`auto_peak_multiple` x that capacity, with retries and the population throughout, then
analyse and say the answer in a few sentences. Nothing depends on this machine's speed:
the load is sized from what was measured on it.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from authsurge.errors import BadInput, ExitStatus

if TYPE_CHECKING:
    from authsurge.scenario import Scenario

DEMO_SCENARIO = Path("scenarios/demo_surge.yaml")
DEMO_DATA_DIR = Path(".authsurge/demo-target")
# PBKDF2 iterations of the demo target: a tenth of Django's default (the target's own
# default). The demo calibrates, so this sets how much load the surge needs (and the
# harness must make), not whether it saturates: here ~20 form sign-ins/s on 2 cores.
DEMO_HASHER_ITERATIONS = 100_000
# Requests a second one load-generator worker is sized for: a tenth of what one harness
# core sustained against a trivial endpoint (bench/bench_peers.py, ~10,000 req/s), for
# the HTML parsing of sign-in pages and a CPU shared with the target.
REQUESTS_PER_WORKER = 1000.0


@dataclass
class DemoOptions:
    scenario: Path = DEMO_SCENARIO
    out_root: Path = Path("runs")
    overrides: tuple[str, ...] = ()
    topology: str = "split"
    target_workers: int = 2
    hasher_iterations: int = DEMO_HASHER_ITERATIONS
    progress: bool = True
    capacity: float | None = None
    """Sign-ins a second measured before (skips the calibration; meta.json says so)."""
    data_dir: Path = DEMO_DATA_DIR
    target: dict[str, Any] = field(default_factory=dict)
    """More TargetOptions for the embedded target (tests plant a capacity with them)."""
    start_rate: float = 8.0
    """The calibration's first probe, sign-ins a second (it doubles from there)."""


def load_workers(scenario: Scenario, peak_journeys: float) -> int:
    """Load-generator workers for a planned peak, so the client never saturates first:
    requests per journey x (1 + retry share) x peak, plus the population's API calls,
    over REQUESTS_PER_WORKER, at most one per core."""
    from authsurge.scenario import STEP_REQUESTS

    per_journey = max(
        (
            sum(len(STEP_REQUESTS.get(g, ("",))) for g in j.steps)
            for j in scenario.journeys.values()
        ),
        default=1,
    )
    rps = peak_journeys * per_journey * (1 + scenario.behaviour.retry.share)
    if scenario.population is not None:
        rps += scenario.population.size * scenario.population.api_rate
    return max(1, min(os.cpu_count() or 1, math.ceil(rps / REQUESTS_PER_WORKER)))


def run_demo(opts: DemoOptions) -> int:
    from authsurge import run as runner  # locust first: it monkey-patches sockets
    from authsurge.calibrate import Calibration, find_capacity, trace_login_peak
    from authsurge.scenario import TraceShape, load_scenario
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

    if opts.capacity is not None and not 0 < opts.capacity <= 100_000:
        raise BadInput(f"--capacity {opts.capacity:g}: a rate in (0, 100000] sign-ins a second")
    overrides = list(opts.overrides)
    scenario = load_scenario(opts.scenario, overrides)  # bad input fails before anything starts
    shape = scenario.traffic.shape
    if not isinstance(shape, TraceShape):
        raise BadInput(f"{opts.scenario}: the demo replays a trace (traffic.shape.kind: trace)")
    target_opts = TargetOptions(
        **{
            "port": 0,
            "data_dir": opts.data_dir,
            "users": scenario.credentials.count,
            "workers": opts.target_workers,
            "topology": opts.topology,
            "hasher_iterations": opts.hasher_iterations,
            **opts.target,
        }
    ).checked()
    say(
        f"starting the embedded target (Django + django-oauth-toolkit, {opts.topology} topology, "
        f"{opts.target_workers} auth workers, data in {target_opts.data_dir}) ..."
    )
    with running_target(target_opts, log=say) as target:
        scenario = load_scenario(opts.scenario, [*overrides, f"target.base_url={target.base_url}"])
        if opts.capacity is None:
            say("measuring the sign-in capacity on this machine (short probes, population on) ...")
            calibration = find_capacity(
                scenario, start_rate=opts.start_rate, with_population=True, progress=opts.progress
            )
        else:
            calibration = Calibration(opts.capacity, [], with_population=False, given=True)
        peak = trace_login_peak(scenario)
        if peak <= 0:
            raise BadInput(f"{opts.scenario}: the trace has no sign-in arrivals")
        multiple = shape.auto_peak_multiple
        scale = multiple * calibration.capacity / peak
        workers = load_workers(scenario, multiple * calibration.capacity)
        scenario.run.workers = workers
        say(
            f"capacity: {calibration.capacity:.1f} sign-ins/s; the surge peaks at "
            f"{multiple:g}x that ({multiple * calibration.capacity:.0f}/s), "
            f"{workers} load-generator worker(s)"
        )
        result = runner.run(
            runner.RunOptions(
                scenario=scenario,
                out_root=opts.out_root,
                target_pids=target.pids(),
                rate_scale=scale,
                calibration=calibration.info(multiple, round(scale, 6)),
                command="make demo",
                progress=opts.progress,
            )
        )
    say(f"target stopped; run directory: {result.run_dir} ({result.status})")
    if result.status not in ("complete", "aborted"):
        return ExitStatus.INTERRUPTED if result.status == "interrupted" else ExitStatus.RUN_FAILED
    from authsurge.report.demo_answer import demo_answer
    from authsurge.report.terminal import analyze_to_terminal

    status = analyze_to_terminal(result.run_dir, as_json=False, plots=True)
    report = _report(result.run_dir)
    answer, generator_bound = demo_answer(result.run_dir)
    say("")
    say("The answer:")
    for sentence in answer:
        say(f"  {sentence}")
    say("")
    say(f"run directory: {result.run_dir}")
    say(f"plots:         {result.run_dir / 'plots'}")
    if report:
        say(f"report:        {report}")
    if generator_bound:  # the client, not the target, set the pace: not an answer
        return ExitStatus.RUN_FAILED
    if result.status == "aborted":  # a scenario's run.abort_on held: a gate that failed
        return ExitStatus.GATE_FAILED
    return status


def _report(run_dir: Path) -> Path | None:
    from authsurge.report.html_report import write_report

    return write_report(run_dir)


def say(text: str) -> None:
    print(text, flush=True)
