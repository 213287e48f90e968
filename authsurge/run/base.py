"""The base of every run mode: prepare, start the clock, drive, finish; one run directory.

Run modes form one small hierarchy, as Locust's runners do: `Run` holds what every mode
shares and each subclass overrides `drive` (and `plan` where it has no arrival plan):

    Run ─┬─ LocalRun    (authsurge.run.local)   the open model in this process
         ├─ MasterRun   (authsurge.run.master)  the open model over worker processes
         └─ ClosedRun   (authsurge.run.closed)  Locust's user count, journeys back to back
    WorkerRun (authsurge.run.worker): the other end of a MasterRun, in its own process

Each run owns a fresh Locust `Events()`: whatever it attaches (its recorder, Locust's own
stats) lives and dies with the run, never on Locust's global `events`. The runner records
samples (requests, resources); judging them is the analysis's work.
"""

from __future__ import annotations

import gevent
import gevent.event
import locust as locust_pkg
from locust.env import Environment  # noqa: I001 - locust first: gevent must patch before ssl
from locust.event import Events
from locust.stats import StatsCSVFileWriter, stats_history

import getpass
import logging
import platform
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

import authsurge
from authsurge import crashlog, rundir
from authsurge.journeys import load_scenario_secrets
from authsurge.mail import MailSink
from authsurge.pbkdf2 import reference_rate
from authsurge.recorder import Recorder
from authsurge.resources import LoopLag, PrometheusScraper, ResourceSampler
from authsurge.run.abort import Abort, AbortSwitch
from authsurge.run.live_view import LiveView, RunShape, check_free
from authsurge.run.mail_sink import mail_info, run_mail_sink
from authsurge.run.options import RunOptions, RunResult
from authsurge.run.preflight import check_target, scenario_target_pids
from authsurge.run.progress_line import Progress
from authsurge.rundir import records as record
from authsurge.rundir.meta import (
    HarnessInfo,
    Level,
    MachineReference,
    PopulationInfo,
    RunMeta,
    TargetInfo,
    TrafficInfo,
)
from authsurge.scenario import Scenario
from authsurge.secret import RedactingFilter, Secret
from authsurge.traffic.schedule import Plan, planned_rate_table
from authsurge.traffic.shapes import RateCurve

log = logging.getLogger("authsurge.run")


class Run:
    """One run of a scenario, from its checks to its finished meta.json."""

    def __init__(self, opts: RunOptions, workers: int = 1) -> None:
        self.opts = opts
        self.scenario: Scenario = opts.scenario
        self.workers = workers
        self.events = Events()  # this run's own: nothing attached here outlives the run
        self.curves: dict[str, RateCurve] = {}
        self.plan = Plan.empty()
        self.pids: list[int] = []
        self.secrets: list[Secret] = []
        self.meta: RunMeta | None = None  # written when the clock starts
        self.t0 = 0.0
        self.run_dir = Path()
        self.mail_sink: MailSink | None = None
        self.reference: MachineReference | None = None
        self.live: LiveView | None = None  # --web, --metrics

    # --- the template --------------------------------------------------------------------

    def execute(self) -> RunResult:
        """Prepare, then drive with the secrets masked in every log line (and the mail
        sink running when journeys read mail, and the live view when asked); always
        finishes."""
        for flag, at in (("--web", self.opts.web), ("--metrics", self.opts.metrics)):
            if at is not None:
                check_free(*at, flag)  # before the run directory exists
        self.prepare()
        if self.opts.web is not None or self.opts.metrics is not None:
            self.live = LiveView(self.scenario, self.curves, self.opts.web, self.opts.metrics)
            self.live.open_metrics()
        status = "failed"
        try:
            with redacted_logs(self.secrets), run_mail_sink(self.scenario) as sink:
                self.mail_sink = sink
                result = self.drive()
                status = result.status
                return result
        finally:
            if self.live is not None:
                self.live.close(status)

    def drive(self) -> RunResult:
        raise NotImplementedError

    def plan_arrivals(self) -> None:
        """Set self.curves and self.plan (the open model's schedule; none for closed)."""

    # --- the stages ----------------------------------------------------------------------

    def prepare(self) -> None:
        """Checks first (secrets, target), then the run directory and its scenario."""
        s = self.scenario
        secrets = load_scenario_secrets(s)  # a missing secret fails before anything starts
        check_target(s)
        self.plan_arrivals()
        self.pids = self.opts.target_pids or scenario_target_pids(s, s.target.pids)
        self.run_dir = rundir.new_run_dir(self.opts.out_root, s.name)
        crashlog.set_run_dir(self.run_dir)  # an internal error from here on logs there
        rundir.write_scenario(self.run_dir, s.public_dict())
        log.info("run directory: %s", self.run_dir)
        self.secrets = all_secrets(secrets)
        # before the clock and the load: the machine's own speed, undisturbed
        self.reference = MachineReference.model_validate(reference_rate())

    def environment(self, user_classes: list[Any]) -> Environment:
        # with --web, a shape: Locust's UI then hides its user-count fields, disables Edit
        return Environment(
            user_classes=user_classes,
            events=self.events,
            host=self.scenario.target.base_url,
            shape_class=RunShape() if self.opts.web is not None else None,
        )

    def start_delay_s(self) -> float:
        """From the start of driving to t0: the options' delay and the population's warm-up
        (which signs people in before the clock starts)."""
        population = self.scenario.population
        return self.opts.start_delay_s + (population.warmup_s if population else 0.0)

    def start_clock(self, t0: float) -> None:
        """Fix the start time, then write what depends on it (schedule, meta)."""
        self.t0 = t0
        if self.curves:
            rundir.write_schedule(self.run_dir, planned_rate_table(self.curves, t0))
        self.meta = self.start_meta()
        rundir.write_meta(self.run_dir, self.meta)

    def start_meta(self) -> RunMeta:
        s = self.scenario
        shape = s.traffic.shape
        return RunMeta(
            run_id=self.run_dir.name,
            scenario=s.name,
            scenario_file=str(s.source) if s.source else None,
            status="running",
            started_at=self.t0,
            planned_duration_s=s.run.duration_s,
            target=TargetInfo(
                base_url=s.target.base_url,
                version=s.target.version,
                git_commit=s.target.git_commit,
                pids=self.pids,
            ),
            harness=HarnessInfo(
                authsurge=authsurge.__version__,
                locust=locust_pkg.__version__,
                python=platform.python_version(),
                host=socket.gethostname(),
                user=getpass.getuser(),
                cpu_count=psutil.cpu_count() or 1,
                workers=self.workers,
            ),
            traffic=TrafficInfo(
                model=s.traffic.model,
                shape=shape.kind if shape else None,
                arrivals=s.traffic.arrivals,
                rate_scale=self.opts.rate_scale,
                planned_journeys=len(self.plan),
                peak_rate=round(sum(c.peak() for c in self.curves.values()), 3),
                max_concurrency=s.traffic.max_concurrency,
            ),
            levels=[Level(**lv) for lv in levels(self.curves, self.t0)],
            analysis=s.analysis.model_dump(mode="json"),
            slos=[slo.model_dump(mode="json") for slo in s.slos],
            command=self.opts.command,
            population=population_info(s, self.t0),
            calibration=self.opts.calibration,
            reference=self.reference,
        )

    def finish(
        self, status: str, workers: list[dict[str, Any]], dropped: int, aborted: Abort | None = None
    ) -> RunResult:
        """Write the final meta.json (status, end, what each worker did, what aborted it)
        and return the result."""
        meta = finish_meta(self.meta or self.start_meta(), status, workers, dropped)
        meta = meta.model_copy(update={"mail": mail_info(self.scenario, self.mail_sink)})
        if aborted is not None:
            meta = meta.model_copy(update={"aborted": aborted.as_dict()})
        rundir.write_meta(self.run_dir, meta)
        return RunResult(self.run_dir, meta.status or status, meta.as_dict())


class Session:
    """What a local, master or closed run holds while it runs, and how it winds it down."""

    def __init__(
        self,
        run: Run,
        env: Environment,
        runner: Any,
        requests: Any,
        resources: record.StreamTable,
        recorder: Recorder,
    ) -> None:
        self.run, self.env, self.runner = run, env, runner
        self.requests, self.resources, self.recorder = requests, resources, recorder
        self.interrupted = gevent.event.Event()
        conditions = run.scenario.run.abort_on
        self.abort = AbortSwitch(conditions, env.stats) if conditions else None
        self.aborted: Abort | None = None  # the condition that stopped the run
        self.lag = LoopLag().start()
        target = run.scenario.target
        self.metrics: record.StreamTable | None = None
        scraper = None
        if target.prometheus_url:
            self.metrics = record.StreamTable(run.run_dir / "metrics.parquet", record.METRIC_SCHEMA)
            scraper = PrometheusScraper(
                target.prometheus_url, target.prometheus_metrics, self.metrics
            )
        self.sampler = ResourceSampler(
            resources,
            run.pids,
            "master" if requests is None else recorder.worker,
            self.lag.read,
            prometheus=scraper,
            rediscover=lambda: scenario_target_pids(run.scenario),
        ).start()
        tables = [t for t in (requests, resources, self.metrics) if t is not None]
        self.flusher = record.Flusher(tables).start()
        self.csv = StatsCSVFileWriter(
            env,
            [0.5, 0.9, 0.95, 0.99, 1.0],
            str(run.run_dir / "locust" / "stats"),
            full_history=True,
        )
        self.greenlets = [gevent.spawn(stats_history, runner), gevent.spawn(self.csv.stats_writer)]
        self.progress: Progress | None = None
        gevent.signal_handler(signal.SIGINT, self.interrupted.set)
        gevent.signal_handler(signal.SIGTERM, self.interrupted.set)
        if (live := run.live) is not None:
            live.start(run.t0, run.run_dir.name)
            for table, observe in (
                (requests, live.state.observe),
                (resources, live.state.observe_resources),
            ):
                if table is not None:
                    table.observers.append(observe)
            live.open_web(env, self.stop_from_web)

    def stop_from_web(self) -> None:
        """The web UI's Stop: ends the run as Ctrl-C does (interrupted, all recorded)."""
        log.warning("stopped from the web UI")
        self.interrupted.set()

    def show_progress(self, counter: Any) -> None:
        s = self.run.scenario
        self.progress = Progress(
            self.run.plan,
            self.run.t0,
            s.run.duration_s,
            counter,
            self.env,
            self.sampler,
            enabled=self.run.opts.progress,
        )
        self.greenlets.append(gevent.spawn(self.progress.run))

    def bound(self) -> float:
        s = self.run.scenario
        return s.run.duration_s + s.run.drain_s + self.run.start_delay_s() + 15

    def wait(self, finished: Callable[[], bool], on_interrupt: Callable[[], None]) -> str:
        """Until `finished`, Ctrl-C, an abort condition or the run's bound: complete,
        interrupted, aborted or failed."""
        deadline = time.time() + self.bound()
        while time.time() < deadline:
            # interrupted first: the web UI's Stop also ends the drivers, which finishes
            if self.interrupted.is_set():
                log.warning("interrupted: stopping the load and keeping what was recorded")
                on_interrupt()
                return "interrupted"
            if finished():
                return "complete"
            if self.abort is not None and (tripped := self.abort.tick(time.time())):
                log.error("aborting the run: %s (%s)", tripped.condition, tripped.measured)
                self.aborted = tripped
                on_interrupt()
                return "aborted"
            gevent.sleep(0.1)
        log.error("the run did not finish within its bound of %.0f s; stopping it", self.bound())
        return "failed"

    def close(self) -> None:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if self.progress is not None:
            self.progress.stop()
        self.runner.quit()
        for g in self.greenlets:
            g.kill(block=False)
        try:
            self.csv.close_files()
        except Exception:  # Locust's CSVs are a courtesy; ours are the record
            log.debug("closing Locust CSV files failed", exc_info=True)
        self.lag.stop()
        self.sampler.stop()
        self.flusher.stop()
        self.recorder.detach()
        for table in (self.requests, self.resources, self.metrics):
            if table is not None:
                table.close()

    def drive(
        self,
        start: Callable[[], None],
        finished: Callable[[], bool],
        on_interrupt: Callable[[], None],
    ) -> str:
        """Start the load, wait for the end, always close: complete, interrupted or failed."""
        try:
            start()
            return self.wait(finished, on_interrupt)
        except Exception:
            log.exception("the run failed")
            return "failed"
        finally:
            self.close()


def levels(curves: dict[str, RateCurve], t0: float) -> list[dict[str, float]]:
    """Plateaus of the total planned rate, when every journey's curve has the same plateaus."""
    level_lists = [c.levels for c in curves.values()]
    if not level_lists or not all(level_lists):
        return []
    spans = [[(a, b) for a, b, _ in lv] for lv in level_lists]
    if any(sp != spans[0] for sp in spans):
        return []
    return [
        {"start": t0 + a, "end": t0 + b, "rate": round(sum(lv[i][2] for lv in level_lists), 6)}
        for i, (a, b) in enumerate(spans[0])
    ]


def finish_meta(meta: RunMeta, status: str, workers: list[dict[str, Any]], dropped: int) -> RunMeta:
    """meta.json at the end: status, end time, and what each worker did (samples only)."""
    ended = time.time()
    shortfall = sorted(
        (w for s in workers for w in s.get("shortfall", [])), key=lambda w: w["start"]
    )
    traffic = meta.traffic.model_copy(
        update={
            "started_journeys": sum(int(s.get("started", 0)) for s in workers),
            "persons": sum(int(s.get("persons", 0)) for s in workers),
            "dropped_journeys": dropped,
            "requests": sum(int(s.get("requests", 0)) for s in workers),
            "shortfall": shortfall,
            "on_schedule": not shortfall,
        }
    )
    harness = meta.harness.model_copy(
        update={"worker_cpu_s": {s["worker"]: s.get("cpu_s") for s in workers if "worker" in s}}
    )
    if shortfall:
        log.warning(
            "arrivals fell short of the schedule in %d window(s) (cap reached or generator "
            "too slow): see meta.json traffic.shortfall",
            len(shortfall),
        )
    population = meta.population
    if population is not None:
        counted = [s["population"] for s in workers if "population" in s]
        population = population.model_copy(
            update={k: sum(c.get(k, 0) for c in counted) for k in POPULATION_COUNTS}
        )
    return meta.model_copy(
        update={
            "population": population,
            "status": status,
            "ended_at": ended,
            "duration_s": round(ended - meta.started_at, 3) if meta.started_at else None,
            "traffic": traffic,
            "harness": harness,
        }
    )


POPULATION_COUNTS = (
    "signed_in_at_start",
    "warmup_failures",
    "joined",
    "relogins",
    "refreshes",
    "gave_up",
)


def population_info(scenario: Scenario, t0: float) -> PopulationInfo | None:
    """meta.json's population as configured (the counts come at the end)."""
    p = scenario.population
    if p is None:
        return None
    return PopulationInfo(
        size=p.size,
        sign_in=p.sign_in,
        api_rate=p.api_rate,
        warmup_started_at=t0 - p.warmup_s,
        on_401=p.on_401,
        session_lifetime_s=p.session_lifetime_s,
        token_lifetime_s=p.token_lifetime_s,
        join_share=p.join_share,
    )


def all_secrets(secrets: Any) -> list[Secret]:
    """Every Secret held by a ScenarioSecrets (attributes, or values of dict attributes)."""
    found: list[Secret] = []
    for value in vars(secrets).values():
        values = value.values() if isinstance(value, dict) else [value]
        found += [v for v in values if isinstance(v, Secret)]
    return found


class redacted_logs:  # noqa: N801 - used as a context manager
    """Masks the run's secret values in every log line while the run lasts."""

    def __init__(self, secrets: list[Secret]) -> None:
        self.filter = RedactingFilter(secrets)

    def __enter__(self) -> redacted_logs:
        root = logging.getLogger()
        root.addFilter(self.filter)
        for handler in root.handlers:
            handler.addFilter(self.filter)
        return self

    def __exit__(self, *exc: object) -> None:
        root = logging.getLogger()
        root.removeFilter(self.filter)
        for handler in root.handlers:
            handler.removeFilter(self.filter)
