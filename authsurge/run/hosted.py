"""The open-model surge hosted by Locust's own command line: `locust -f locustfiles/appstore_surge.py`.

Locust owns the process here: its command line, its runner (local, master, or the
workers of `--processes N` and `--worker`), its web UI and its `--headless` mode.
authsurge joins through Locust's events and one `LoadTestShape`:

- `SurgeShape` asks for one `SurgeDriver` user per worker (one in a local run) while the
  run lasts, then None, which ends Locust's test. Its user-count and spawn-rate fields are
  hidden in the UI and Edit is disabled (`use_common_options = False`): the arrival plan,
  not a user count, sets the load.
- Each test start (the first, and each *New test* after *Stop*) is a `HostedRun` with a
  run directory of its own, written exactly as `authsurge run` writes it (the same `Run`
  stages, the same records); *Stop* ends it as interrupted, with everything recorded.
- Workers take the master's setup message as `authsurge worker` does (WorkerRun) and
  ship their records to the master, which owns the run directory.

Locust's conventions hold: its exit codes (1 when any request failed, unless
`--exit-code-on-error 0`), and its flags. A scenario file error, or an argument Locust's
parser cannot take, exits 2 before anything starts.
"""

from __future__ import annotations

import gevent
from locust import LoadTestShape, events  # noqa: I001 - locust first: gevent must patch before ssl
from locust.runners import MasterRunner, WorkerRunner

import argparse
import contextlib
import logging
import re
import sys
import time
from pathlib import Path
from typing import Any

from authsurge.errors import AuthsurgeError, BadInput, ExitStatus
from authsurge.live.metrics import MetricsServer
from authsurge.live.state import LiveState
from authsurge.live.web import LivePage
from authsurge.live_cli import hostport
from authsurge.recorder import Recorder
from authsurge.resources import LoopLag, ResourceSampler
from authsurge.run.base import redacted_logs
from authsurge.run.driver_user import (
    MSG_DONE,
    MSG_RECORDS,
    MSG_RESOURCES,
    MSG_SETUP,
    MSG_STOP,
    DriverSetup,
    SurgeDriver,
)
from authsurge.run.ingest import RecordIngest
from authsurge.run.live_view import check_free, planned_per_second
from authsurge.run.local import OpenRun
from authsurge.run.mail_sink import run_mail_sink
from authsurge.run.options import RunOptions
from authsurge.run.worker import WorkerRun
from authsurge.rundir import records as record
from authsurge.scenario import Scenario, load_scenario

log = logging.getLogger("authsurge.run")

SCENARIO_ENV = "AUTHSURGE_SCENARIO"
DONE_WAIT_S = 5.0  # after Stop: how long the master waits for each worker's last rows
BOUND_SLACK_S = 15.0  # past duration + drain: a run that has not ended is stopped, failed

__all__ = ["SurgeDriver", "SurgeShape", "install"]


def _scenario_file(value: str) -> str:
    """--scenario: a file that loads and validates (argparse exits 2 with the message)."""
    try:
        load_scenario(value)
    except AuthsurgeError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def _rate_scale(value: str) -> str:
    """--rate-scale: a number above 0, kept as text (Locust's web form writes the option
    back as text, and `float("auto")` there would be its 500); 'auto' is refused."""
    if value.strip() == "auto":
        raise argparse.ArgumentTypeError(
            "'auto' calibrates with probe runs before the load, which Locust's own command "
            "line cannot host: run `authsurge run SCENARIO --rate-scale auto --web` (the same "
            "live view), or take the scale from a calibrated run's meta.json and pass it here"
        )
    try:
        scale = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {value!r}") from None
    if not scale > 0:
        raise argparse.ArgumentTypeError(f"expected a number above 0, got {value!r}")
    return value


def _metrics_at(value: str) -> tuple[str, int]:
    """--metrics HOST:PORT, which must be free: checked before Locust starts (exit 2)."""
    host, port = hostport(value)
    try:
        check_free(host, port, "--metrics")
    except BadInput as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return host, port


def _public_command(argv: list[str]) -> str:
    """The command for meta.json, without a URL's user:password (Locust's -H may carry one)."""
    return "locust " + re.sub(r"://[^/@\s]+@", "://***@", " ".join(argv))


class SurgeShape(LoadTestShape):
    """One SurgeDriver per worker while the current run lasts; None ends Locust's test."""

    use_common_options = False

    def tick(self) -> tuple[int, float] | None:
        host = _HOST
        if host is None:
            return None
        if host.refused:
            return None
        current = host.current  # None until this test's start made its run
        if current is not None and (current.done() or current.failed or current.overdue()):
            return None
        drivers = host.drivers()
        return drivers, float(drivers)


class HostedRun(OpenRun):
    """One run inside Locust's process: the `Run` stages, driven by Locust's events."""

    def __init__(self, opts: RunOptions, environment: Any, clients: list[Any]) -> None:
        super().__init__(opts, max(1, len(clients)))
        self.clients = clients  # the master's workers (none in a local run)
        self.env = environment
        self.runner = environment.runner
        self.stack = contextlib.ExitStack()
        self.failed: str | None = None
        self.interrupted = False
        self.setup: DriverSetup | None = None
        self.summaries: dict[str, dict[str, Any]] = {}
        self.ingest: RecordIngest | None = None  # a master's: its workers' rows
        self.requests: record.StreamTable | None = None
        self.recorder: Recorder | None = None
        self.state = LiveState(self.scenario)  # the live page's, for this run

    @property
    def distributed(self) -> bool:
        return isinstance(self.runner, MasterRunner)

    def begin(self) -> None:
        """Locust's test_start: prepare, open the run directory, start the clock, hand
        each worker its setup (or this process its driver)."""
        self.prepare()
        self.state.planned = planned_per_second(self.curves, self.scenario.run.duration_s)
        self.stack.enter_context(redacted_logs(self.secrets))
        self.mail_sink = self.stack.enter_context(run_mail_sink(self.scenario))
        self.resources = record.StreamTable(
            self.run_dir / "resources.parquet", record.RESOURCE_SCHEMA
        )
        self.resources.observers.append(self.state.observe_resources)
        self.lag = LoopLag().start()
        self.start_clock(time.time() + self.start_delay_s() + (1.0 if self.distributed else 0.0))
        self.state.start(self.t0, self.run_dir.name)
        if self.distributed:
            # ready before any worker has its setup: its first rows may come at once
            self.ingest = RecordIngest(self.run_dir, self.resources, [self.state.observe])
            setup = {
                "scenario": self.scenario.model_dump(mode="json"),
                "source": str(self.scenario.source) if self.scenario.source else None,
                "curves": {n: [c.times.tolist(), c.rates.tolist()] for n, c in self.curves.items()},
                "t0": self.t0,
                "worker_count": self.workers,
                "run": self.run_dir.name,
            }
            # each its own slice, 0..N-1 for this run (Locust's worker_index only grows)
            for index, client in enumerate(self.clients):
                self.runner.send_message(MSG_SETUP, {**setup, "worker_index": index}, client.id)
            name = "master"
        else:
            self.requests = record.StreamTable(
                self.run_dir / "requests" / "worker-0.parquet", record.REQUEST_SCHEMA
            )
            self.requests.observers.append(self.state.observe)
            self.recorder = Recorder(self.requests, "worker-0")
            self.recorder.attach(self.env.events)
            self.setup = DriverSetup(
                scenario=self.scenario,
                curves=self.curves,
                t0=self.t0,
                worker_index=0,
                worker_count=1,
                recorder=self.recorder,
            )
            self.env.authsurge = self.setup
            name = "worker-0"
        self.sampler = ResourceSampler(self.resources, self.pids, name, self.lag.read).start()
        tables = [t for t in (self.requests, self.resources) if t is not None]
        self.flusher = record.Flusher(tables).start()
        log.info("run directory: %s", self.run_dir)

    def done(self) -> bool:
        if self.distributed:
            return len(self.summaries) >= self.workers
        return self.setup is not None and self.setup.done.is_set()

    def overdue(self) -> bool:
        """Past the run's bound (a worker that never reports): the shape ends the test."""
        bound = self.scenario.run.duration_s + self.scenario.run.drain_s + BOUND_SLACK_S
        if self.meta is not None and time.time() > self.t0 + bound:
            log.error("the run did not finish within its bound of %.0f s; stopping it", bound)
            return True
        return False

    def accepts(self, msg: Any) -> bool:
        """A worker's message for this run (not the last run's, late after its Stop)."""
        return self.meta is not None and msg.data.get("run") == self.run_dir.name

    def on_records(self, msg: Any) -> None:
        if self.ingest is not None:
            self.ingest.records(msg.data)

    def on_resources(self, msg: Any) -> None:
        if self.ingest is not None:
            self.ingest.resource_samples(msg.data)  # the resources' observer: the live state

    def stopping(self) -> None:
        """Locust's test_stopping: Stop (or Ctrl-C) before the plan's end stops the drivers,
        which still record what is in flight for a second."""
        if self.failed or self.done():
            return
        self.interrupted = True
        log.warning("stopped before the plan's end: keeping what was recorded")
        if self.setup is not None:
            self.setup.stop_driver()
        elif self.distributed:
            # Locust's own quit (Ctrl-C, -t, headless end) stops no worker: tell them, and
            # end() waits for their last rows
            self.runner.send_message(MSG_STOP, None)

    def end(self) -> None:
        """Locust's test_stop: every worker's last rows, then the finished meta.json."""
        if self.distributed:
            deadline = time.time() + DONE_WAIT_S
            while len(self.summaries) < self.workers and time.time() < deadline:
                gevent.sleep(0.05)
        elif self.setup is not None:
            self.setup.done.wait(timeout=DONE_WAIT_S)
        self.sampler.stop()
        self.flusher.stop()
        self.lag.stop()
        if self.recorder is not None:
            self.recorder.detach()
        if self.ingest is not None:
            self.ingest.close()
        for table in (self.requests, self.resources):
            if table is not None:
                table.close()
        summaries = list(self.summaries.values())
        if self.setup is not None:
            summaries = [self.setup.summary()]
        finished = self.done()
        status = "interrupted" if self.interrupted else "complete" if finished else "failed"
        if status == "failed":
            self.env.process_exit_code = ExitStatus.RUN_FAILED
        dropped = sum(int(s.get("dropped", 0)) for s in summaries)
        result = self.finish(status, summaries, dropped)
        self.state.finish(result.status)
        self.stack.close()
        print(f"run directory: {result.run_dir} ({result.status})", flush=True)


class Host:
    """authsurge inside one Locust process: its arguments, its runs, its live page."""

    def __init__(self, default_scenario: str | None) -> None:
        self.default_scenario = default_scenario
        self.environment: Any = None
        self.current: HostedRun | None = None
        self.page = LivePage()
        self.metrics: MetricsServer | None = None
        self.worker: WorkerRun | None = None
        self.refused = False  # this test's start could not start a run

    # --- Locust's events -----------------------------------------------------------------

    def add_arguments(self, parser: Any) -> None:
        # on the parser itself: Locust's include_in_web_ui is not an argument group's
        parser.add_argument(
            "--scenario",
            type=_scenario_file,
            env_var=SCENARIO_ENV,
            default=self.default_scenario,
            help=f"the scenario file (YAML) to run (env {SCENARIO_ENV}); not on a --worker, "
            "which takes the master's",
        )
        parser.add_argument(
            "--rate-scale",
            type=_rate_scale,
            default=None,
            metavar="K",
            help="scale a trace's rates by K ('auto' is refused here: see the README)",
        )
        parser.add_argument(
            "--runs-dir",
            default="runs",
            metavar="DIR",
            include_in_web_ui=False,
            help="where run directories are made (default: runs)",
        )
        parser.add_argument(
            "--metrics",
            type=_metrics_at,
            default=None,
            metavar="HOST:PORT",
            include_in_web_ui=False,
            help="serve the live per-step counters for Prometheus at /metrics",
        )

    def on_init(self, environment: Any, **_: Any) -> None:
        self.environment = environment
        runner = environment.runner
        if isinstance(runner, WorkerRunner):
            self.worker = WorkerRun.hosted(environment)
            return
        if environment.web_ui is not None:
            self.page.add_to(environment.web_ui.app, environment.web_ui)
        options = environment.parsed_options
        if options is not None and not options.scenario:
            sys.exit(f"locust: error: --scenario FILE (or {SCENARIO_ENV}) is required")
        if options is not None and options.metrics is not None:
            host, port = options.metrics
            self.metrics = MetricsServer(lambda: self.page.state, host, port).start()
        if isinstance(runner, MasterRunner):
            for kind, handler in ((MSG_RECORDS, "on_records"), (MSG_RESOURCES, "on_resources")):
                runner.register_message(kind, self._to_current(handler))
            runner.register_message(MSG_DONE, self._on_done)

    def _to_current(self, handler: str) -> Any:
        def forward(environment: Any, msg: Any, **_: Any) -> None:
            if self.current is not None and not self.current.failed and self.current.accepts(msg):
                getattr(self.current, handler)(msg)

        return forward

    def _on_done(self, environment: Any, msg: Any, **_: Any) -> None:
        if self.current is not None and self.current.accepts(msg):
            self.current.summaries[msg.data["worker"]] = msg.data

    def clients(self) -> list[Any]:
        """The master's connected workers, in a stable order (none in a local run)."""
        runner = self.environment.runner if self.environment is not None else None
        if not isinstance(runner, MasterRunner):
            return []
        nodes = runner.clients.ready + runner.clients.spawning + runner.clients.running
        return sorted(nodes, key=lambda node: node.id)

    def drivers(self) -> int:
        return max(1, len(self.clients()))

    def on_test_start(self, environment: Any, **_: Any) -> None:
        if isinstance(environment.runner, WorkerRunner):
            return
        environment.authsurge = None  # never the last run's driver setup
        environment.process_exit_code = None  # a refused start before does not stick
        self.refused = False
        try:
            run = HostedRun(self.run_options(environment), environment, self.clients())
        except AuthsurgeError as exc:
            self.current = None
            self.refuse(environment, exc)
            return
        self.current = run
        self.page.state = run.state
        try:
            run.begin()
        except BaseException as exc:
            run.failed = str(exc) or type(exc).__name__
            self.abandon(run)
            if not isinstance(exc, Exception):
                raise  # Stop killed the greenlet starting it: the run is closed, go on
            if isinstance(exc, AuthsurgeError):
                self.refuse(environment, exc)
            else:
                log.exception("the run could not start")
                self.refused = True
                environment.process_exit_code = ExitStatus.INTERNAL_ERROR

    def abandon(self, run: HostedRun) -> None:
        """A run that failed to start: its directory still says so (meta.json: failed)."""
        run.stack.close()
        run.state.finish("failed")
        if run.meta is not None:
            with contextlib.suppress(Exception):
                run.finish("failed", [], 0)

    def refuse(self, environment: Any, exc: AuthsurgeError) -> None:
        """A run that cannot start: the message (no traceback), exit 2 for bad input, and
        the shape ends Locust's test at its next tick."""
        log.error("%s", exc)
        self.refused = True
        environment.process_exit_code = (
            ExitStatus.BAD_INPUT if isinstance(exc, BadInput) else ExitStatus.RUN_FAILED
        )

    def on_test_stopping(self, environment: Any, **_: Any) -> None:
        # a worker's driver is stopped by its WorkerRun (its own test_stopping listener)
        if not isinstance(environment.runner, WorkerRunner) and self.current is not None:
            self.current.stopping()

    def on_test_stop(self, environment: Any, **_: Any) -> None:
        if isinstance(environment.runner, WorkerRunner):
            return
        try:
            if self.current is not None and self.current.failed is None and self.current.meta:
                self.current.end()
        finally:
            # the next start (New test) begins afresh; the live page keeps showing this run
            self.current, self.refused = None, False

    def on_quit(self, **_: Any) -> None:
        if self.metrics is not None:
            state = self.page.state  # the last run's
            linger = state.scenario.run.drain_s if state is not None else 0.0
            self.metrics.stop(linger_s=linger)

    def run_options(self, environment: Any) -> RunOptions:
        options = environment.parsed_options
        overrides = []
        if options.host:  # Locust's -H: the target's base URL
            overrides.append(f"target.base_url={options.host}")
        scenario: Scenario = load_scenario(options.scenario, overrides)
        scale = None
        if options.rate_scale is not None and str(options.rate_scale).strip():
            try:
                scale = float(_rate_scale(str(options.rate_scale)))
            except argparse.ArgumentTypeError as exc:  # typed into the web UI's form
                raise BadInput(f"rate_scale: {exc}") from None
        return RunOptions(
            scenario=scenario,
            out_root=Path(options.runs_dir),
            rate_scale=scale,
            command=_public_command(sys.argv[1:]),
            progress=False,
        )


_HOST: Host | None = None


def install(default_scenario: str | None = None) -> None:
    """Join Locust's events (once per process): call it from a locustfile that also
    imports SurgeDriver and SurgeShape, for Locust to find them."""
    global _HOST
    if _HOST is not None:
        return
    host = _HOST = Host(default_scenario)
    events.init_command_line_parser.add_listener(host.add_arguments)
    events.init.add_listener(host.on_init)
    events.test_start.add_listener(host.on_test_start)
    events.test_stopping.add_listener(host.on_test_stopping)
    events.test_stop.add_listener(host.on_test_stop)
    events.quit.add_listener(host.on_quit)  # after the runner quit: the final counts
