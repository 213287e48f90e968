"""Running a scenario: run modes as one small hierarchy, each owning its Locust events.

    from authsurge.run import RunOptions, run
    result = run(RunOptions(scenario=load_scenario("scenarios/demo_spike.yaml")))
    result.run_dir, result.status      # runs/<UTC stamp>-<scenario>/, complete|interrupted|aborted|failed

`run` picks the mode (`mode_for`): the closed model, the open model
in this process, or a master with worker processes. Every mode leaves an analysable run
directory, also on Ctrl-C or a crash.
"""

from __future__ import annotations

import locust  # noqa: F401, I001 - gevent must patch ssl and sockets before anything imports them

from authsurge.run.base import Run
from authsurge.run.closed import ClosedRun
from authsurge.run.local import LocalRun
from authsurge.run.master import MasterRun
from authsurge.run.options import RunOptions, RunResult
from authsurge.run.preflight import worker_count

__all__ = [
    "ClosedRun",
    "LocalRun",
    "MasterRun",
    "Run",
    "RunOptions",
    "RunResult",
    "run",
    "mode_for",
]


def mode_for(opts: RunOptions) -> Run:
    """The run mode for these options (Locust's factories, as one function)."""
    if opts.scenario.traffic.model != "open":
        return ClosedRun(opts)
    workers = opts.expect_workers or worker_count(opts.scenario.run.workers)
    if workers == 1 and opts.expect_workers is None:
        return LocalRun(opts)
    return MasterRun(opts, workers)


def run(opts: RunOptions) -> RunResult:
    """Run the scenario; always leaves an analysable run directory, even on Ctrl-C or a crash."""
    return mode_for(opts).execute()
