"""Runs a scenario with Locust (in-process, or master + workers) and writes the run directory.

Locust runs in this process (LocalRunner) or as a master with worker processes; either
way each worker runs one `SurgeDriver` user, the open-model driver, over its slice of
the arrival plan. Workers ship their records to the master once a second over Locust's
own messages, so a run on several machines still lands in one run directory.
"""

from __future__ import annotations

import gevent
import gevent.event
import locust as locust_pkg
from locust import User, task  # noqa: I001 - locust first: gevent must patch before ssl
from locust.env import Environment
from locust.event import Events
from locust.exception import StopUser
from locust.stats import StatsCSVFileWriter, stats_history

import getpass
import logging
import os
import platform
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pyarrow as pa
import pyarrow.compute as pc

import authsurge
from authsurge import crashlog, record, rundir
from authsurge.driver import OpenModelDriver, retry_policy
from authsurge.errors import BadInput, RunFailed, TargetUnreachable
from authsurge.journeys import AccountPool, build_journeys, load_scenario_secrets
from authsurge.journeys.http import HttpSettings
from authsurge.progress import Progress
from authsurge.recorder import Recorder
from authsurge.resources import LoopLag, PrometheusScraper, ResourceSampler, target_pids
from authsurge.scenario import Scenario
from authsurge.secrets import RedactingFilter, Secret
from authsurge.selfcheck import generator_bound_s
from authsurge.traffic import build_plan, curves_for
from authsurge.traffic.schedule import Plan, plan_text, planned_rate_table
from authsurge.traffic.shapes import RateCurve

log = logging.getLogger(__name__)

MSG_SETUP, MSG_STOP = "authsurge_setup", "authsurge_stop"
MSG_RECORDS, MSG_RESOURCES, MSG_DONE = "authsurge_records", "authsurge_resources", "authsurge_done"


@dataclass
class RunOptions:
    scenario: Scenario
    out_root: Path = Path("runs")
    target_pids: list[int] = field(default_factory=list)
    rate_scale: float | None = None  # resolved trace scale (calibration)
    command: str = ""
    progress: bool = True
    start_delay_s: float = 0.5  # lets every greenlet get going before the first arrival
    expect_workers: int | None = None  # remote workers to wait for (`--master`)
    master_bind: tuple[str, int] = ("127.0.0.1", 0)


@dataclass
class RunResult:
    run_dir: Path
    status: str  # complete | interrupted | failed
    meta: dict[str, Any]


@dataclass
class DriverSetup:
    """Everything one worker's driver needs; attached to its Locust environment."""

    scenario: Scenario
    curves: dict[str, RateCurve]
    t0: float
    worker_index: int
    worker_count: int
    recorder: Recorder
    driver: OpenModelDriver | None = None
    done: Any = field(default_factory=gevent.event.Event)

    def make_driver(self, environment: Environment) -> OpenModelDriver:
        s, share = self.scenario, self.worker_count
        secrets = load_scenario_secrets(s)
        plan = build_plan(self.curves, s.traffic.arrivals, s.traffic.seed, s.run.max_journeys)
        journeys = build_journeys(s, secrets)
        accounts = None
        if any(j.needs_account for j in journeys.values()):
            accounts = AccountPool(
                s.credentials,
                secrets.password,
                s.source.parent if s.source else None,
                worker_index=self.worker_index,
                worker_count=share,
            )
        self.driver = OpenModelDriver(
            environment=environment,
            plan=plan.slice_for(self.worker_index, share),
            journeys=journeys,
            accounts=accounts,
            recorder=self.recorder,
            retry=retry_policy(s.behaviour.retry, s.traffic.seed, self.worker_index),
            base_url=s.target.base_url,
            t0=self.t0,
            deadline=self.t0 + s.run.duration_s,
            max_concurrency=max(1, s.traffic.max_concurrency // share),
            max_journeys=max(1, s.run.max_journeys // share),
            worker=self.recorder.worker,
        )
        return self.driver

    def summary(self) -> dict[str, Any]:
        d = self.driver
        return {
            "worker": self.recorder.worker,
            "started": d.started if d else 0,
            "persons": d.persons if d else 0,
            "dropped": self.recorder.dropped,
            "requests": self.recorder.requests,
            "shortfall": d.shortfall.windows(self.t0) if d else [],
            "cpu_s": _own_cpu_s(),
        }


class SurgeDriver(User):
    """One per worker: runs the open-model driver over the worker's slice of the plan."""

    @task
    def drive(self) -> None:
        setup: DriverSetup = self.environment.authsurge
        try:
            driver = setup.make_driver(self.environment)
            driver.run()
            # people who are retrying keep arriving until the deadline
            while len(driver.thinking) and time.time() < driver.deadline and not driver.stopping:
                gevent.sleep(0.1)
            driver.drain(setup.scenario.run.drain_s)
        finally:
            setup.done.set()
        raise StopUser()


# --- preparing a run -----------------------------------------------------------------------


def check_reachable(base_url: str, timeout: float = 5.0, tls: ssl.SSLContext | None = None) -> None:
    """Any HTTP answer will do; a refused or silent connection stops the run before it starts.

    `tls` is the journeys' own context (`tls_context`): a certificate the load would
    reject fails here, before any load, with what to set.
    """
    try:
        urllib.request.urlopen(base_url + "/", timeout=timeout, context=tls)  # noqa: S310 - the scenario's own target
    except urllib.error.HTTPError:
        return
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        hint = ""
        if isinstance(reason, ssl.SSLCertVerificationError):
            hint = (
                "; the target's certificate is not trusted: set target.ca_bundle to the PEM of the CA "
                "that signed it (or target.insecure: true to skip certificate checks, not for real credentials)"
            )
        raise TargetUnreachable(
            f"target {base_url} is not reachable ({reason}){hint}; nothing was run"
        ) from None


def tls_context(s: Scenario) -> ssl.SSLContext | None:
    """The TLS context the journeys use for an https target (verify_tls, ca_bundle, insecure)."""
    if not s.target.base_url.startswith("https:"):
        return None
    settings = HttpSettings.from_target(s.target, s.source.parent if s.source else None)
    try:
        return settings.ssl_context()
    except (OSError, ssl.SSLError) as exc:
        raise BadInput(
            f"target.ca_bundle {settings.ca_bundle}: cannot load it as PEM certificates "
            f"({getattr(exc, 'strerror', None) or exc})"
        ) from None


def worker_count(requested: int) -> int:
    return requested if requested > 0 else (psutil.cpu_count() or 1)


@dataclass
class Prepared:
    opts: RunOptions
    curves: dict[str, RateCurve]
    plan: Plan
    pids: list[int]
    run_dir: Path
    secrets: list[Secret]
    meta: dict[str, Any] = field(default_factory=dict)
    t0: float = 0.0

    def start_clock(self, t0: float, workers: int) -> None:
        """Fix the start time, then write what depends on it (schedule, meta)."""
        self.t0 = t0
        rundir.write_schedule(self.run_dir, planned_rate_table(self.curves, t0))
        self.meta = base_meta(self, workers)
        rundir.write_meta(self.run_dir, self.meta)


def prepare(opts: RunOptions) -> Prepared:
    s = opts.scenario
    secrets = load_scenario_secrets(s)  # a missing secret fails before anything starts
    check_reachable(s.target.base_url, timeout=min(5.0, s.target.timeout_s), tls=tls_context(s))
    curves = curves_for(s, opts.rate_scale)
    if not curves:
        raise BadInput("the scenario plans no arrivals (traffic.shape is empty)")
    plan = build_plan(curves, s.traffic.arrivals, s.traffic.seed, s.run.max_journeys)
    pids = opts.target_pids or scenario_target_pids(s, s.target.pids)
    run_dir = rundir.new_run_dir(opts.out_root, s.name)
    crashlog.set_run_dir(run_dir)  # an internal error from here on logs its traceback there
    rundir.write_scenario(run_dir, s.public_dict())
    log.info("run directory: %s", run_dir)
    peak = sum(c.peak() for c in curves.values())
    log.info("plan: %s", plan_text(plan, peak, s.run.duration_s, s.run.max_journeys))
    return Prepared(opts, curves, plan, pids, run_dir, all_secrets(secrets))


def base_meta(p: Prepared, workers: int) -> dict[str, Any]:
    s = p.opts.scenario
    shape = s.traffic.shape
    return {
        "run_id": p.run_dir.name,
        "scenario": s.name,
        "scenario_file": str(s.source) if s.source else None,
        "status": "running",
        "started_at": p.t0,
        "ended_at": None,
        "duration_s": None,
        "planned_duration_s": s.run.duration_s,
        "target": {
            "base_url": s.target.base_url,
            "version": s.target.version,
            "git_commit": s.target.git_commit,
            "pids": p.pids,
        },
        "harness": {
            "authsurge": authsurge.__version__,
            "locust": locust_pkg.__version__,
            "python": platform.python_version(),
            "host": socket.gethostname(),
            "user": getpass.getuser(),
            "cpu_count": psutil.cpu_count() or 1,
            "workers": workers,
        },
        "traffic": {
            "model": s.traffic.model,
            "shape": shape.kind if shape else None,
            "arrivals": s.traffic.arrivals,
            "rate_scale": p.opts.rate_scale,
            "planned_journeys": len(p.plan),
            "peak_rate": round(sum(c.peak() for c in p.curves.values()), 3),
            "max_concurrency": s.traffic.max_concurrency,
        },
        "levels": _levels(p.curves, p.t0),
        "analysis": s.analysis.model_dump(mode="json"),
        "slos": [slo.model_dump(mode="json") for slo in s.slos],
        "command": p.opts.command,
    }


# --- running -----------------------------------------------------------------------------------


def run(opts: RunOptions) -> RunResult:
    """Run the scenario; always leaves an analyzable run directory, even on Ctrl-C or a crash."""
    if opts.scenario.traffic.model != "open":
        from authsurge.closed import run_closed  # the classic Locust user-count model

        return run_closed(opts)
    prepared = prepare(opts)
    workers = opts.expect_workers or worker_count(opts.scenario.run.workers)
    with redacted_logs(prepared.secrets):
        if workers == 1 and opts.expect_workers is None:
            return _run_local(prepared)
        return _run_distributed(prepared, workers)


def scenario_target_pids(s: Scenario, pids: Iterable[int] = ()) -> list[int]:
    """The target's PIDs: `pids`, else the scenario's PID file, else its loopback port."""
    pid_file = s.resolve_path(s.target.pid_file) if s.target.pid_file else None
    return target_pids(s.target.base_url, pids, pid_file, s.target.port)


class _Session:
    """What a local or master process holds during a run, and how it winds it down."""

    def __init__(
        self,
        p: Prepared,
        env: Environment,
        runner: Any,
        requests: Any,
        resources: record.StreamTable,
        recorder: Recorder,
    ) -> None:
        self.p, self.env, self.runner = p, env, runner
        self.requests, self.resources, self.recorder = requests, resources, recorder
        self.interrupted = gevent.event.Event()
        self.lag = LoopLag().start()
        target = p.opts.scenario.target
        self.metrics: record.StreamTable | None = None
        scraper = None
        if target.prometheus_url:
            self.metrics = record.StreamTable(p.run_dir / "metrics.parquet", record.METRIC_SCHEMA)
            scraper = PrometheusScraper(
                target.prometheus_url, target.prometheus_metrics, self.metrics
            )
        self.sampler = ResourceSampler(
            resources,
            p.pids,
            "master" if requests is None else recorder.worker,
            self.lag.read,
            prometheus=scraper,
            rediscover=lambda: scenario_target_pids(p.opts.scenario),
        ).start()
        tables = [t for t in (requests, resources, self.metrics) if t is not None]
        self.flusher = record.Flusher(tables).start()
        self.csv = StatsCSVFileWriter(
            env, [0.5, 0.9, 0.95, 0.99, 1.0], str(p.run_dir / "locust" / "stats"), full_history=True
        )
        self.greenlets = [gevent.spawn(stats_history, runner), gevent.spawn(self.csv.stats_writer)]
        self.progress: Progress | None = None
        gevent.signal_handler(signal.SIGINT, self.interrupted.set)
        gevent.signal_handler(signal.SIGTERM, self.interrupted.set)

    def show_progress(self, recorder: Any) -> None:
        s = self.p.opts.scenario
        self.progress = Progress(
            self.p.plan,
            self.p.t0,
            s.run.duration_s,
            recorder,
            self.env,
            self.sampler,
            enabled=self.p.opts.progress,
        )
        self.greenlets.append(gevent.spawn(self.progress.run))

    def bound(self) -> float:
        s = self.p.opts.scenario
        return s.run.duration_s + s.run.drain_s + self.p.opts.start_delay_s + 15

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
        if self.metrics is not None:
            self.metrics.close()


def _run_local(p: Prepared) -> RunResult:
    s = p.opts.scenario
    # the run's own Events(): what it attaches cannot outlive it (Locust's global `events`
    # would keep every earlier run's recorder, as calibration probes did)
    env = Environment(user_classes=[SurgeDriver], events=Events(), host=s.target.base_url)
    requests = record.StreamTable(
        p.run_dir / "requests" / "worker-0.parquet", record.REQUEST_SCHEMA
    )
    resources = record.StreamTable(p.run_dir / "resources.parquet", record.RESOURCE_SCHEMA)
    recorder = Recorder(requests, "worker-0")
    recorder.attach(env.events)
    p.start_clock(time.time() + p.opts.start_delay_s, workers=1)
    setup = DriverSetup(
        scenario=s, curves=p.curves, t0=p.t0, worker_index=0, worker_count=1, recorder=recorder
    )
    env.authsurge = setup  # type: ignore[attr-defined]
    session = _Session(p, env, env.create_local_runner(), requests, resources, recorder)
    session.show_progress(recorder)
    status = "complete"
    try:
        session.runner.start(1, spawn_rate=1)
        status = _wait(
            lambda: setup.done.is_set(), session, on_interrupt=lambda: _stop_driver(setup)
        )
    except Exception:
        status = "failed"
        log.exception("the run failed")
    finally:
        session.close()
        recorder.detach(env.events)
        requests.close()
        resources.close()
        meta = finish_meta(p.meta, status, [setup.summary()], recorder.dropped, run_dir=p.run_dir)
        rundir.write_meta(p.run_dir, meta)
    return RunResult(p.run_dir, status, meta)


def _stop_driver(setup: DriverSetup) -> None:
    if setup.driver is not None:
        setup.driver.stopping = True
        setup.driver.drain(timeout=1.0)


def _wait(finished: Callable[[], bool], session: _Session, on_interrupt: Callable[[], None]) -> str:
    deadline = time.time() + session.bound()
    while time.time() < deadline:
        if finished():
            return "complete"
        if session.interrupted.is_set():
            log.warning("interrupted: stopping the load and keeping what was recorded")
            on_interrupt()
            return "interrupted"
        gevent.sleep(0.1)
    log.error("the run did not finish within its bound of %.0f s; stopping it", session.bound())
    return "failed"


def _run_distributed(p: Prepared, workers: int) -> RunResult:
    """Master in this process; local worker processes unless remote ones are expected."""
    s = p.opts.scenario
    env = Environment(user_classes=[SurgeDriver], events=Events(), host=s.target.base_url)
    host, port = p.opts.master_bind
    if port == 0:
        port = _free_port(host)
    master = env.create_master_runner(master_bind_host=host, master_bind_port=port)
    resources = record.StreamTable(p.run_dir / "resources.parquet", record.RESOURCE_SCHEMA)
    shards: dict[str, record.StreamTable] = {}
    summaries: dict[str, dict[str, Any]] = {}
    counter = MasterCounter()

    def on_records(environment: Any, msg: Any, **_: Any) -> None:
        name = msg.data["worker"]
        if name not in shards:
            shards[name] = record.StreamTable(
                p.run_dir / "requests" / f"{name}.parquet", record.REQUEST_SCHEMA
            )
        for batch in record.bytes_to_batches(msg.data["data"]):
            shards[name].write_batch(batch)
            counter.add(batch)

    def on_resources(environment: Any, msg: Any, **_: Any) -> None:
        for batch in record.bytes_to_batches(msg.data["data"]):
            resources.write_batch(batch)

    def on_done(environment: Any, msg: Any, **_: Any) -> None:
        summaries[msg.data["worker"]] = msg.data

    master.register_message(MSG_RECORDS, on_records)
    master.register_message(MSG_RESOURCES, on_resources)
    master.register_message(MSG_DONE, on_done)
    procs: list[subprocess.Popen[bytes]] = []
    if p.opts.expect_workers is None:
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "authsurge.worker",
                    "--master-host",
                    host,
                    "--master-port",
                    str(port),
                    "--local",
                ]
            )
            for _ in range(workers)
        ]
    else:
        print(
            f"master listening on {host}:{port}; waiting for {workers} worker(s): "
            f"authsurge worker --master-host HOST --master-port {port}",
            flush=True,
        )
    status = "failed"
    session: _Session | None = None
    try:
        _wait_for_workers(master, workers, procs, timeout=60 if procs else 600)
        p.start_clock(time.time() + p.opts.start_delay_s + 1.0, workers=workers)
        master.send_message(
            MSG_SETUP,
            {
                "scenario": s.model_dump(mode="json"),
                "source": str(s.source) if s.source else None,
                "curves": {n: [c.times.tolist(), c.rates.tolist()] for n, c in p.curves.items()},
                "t0": p.t0,
                "worker_count": workers,
            },
        )
        session = _Session(p, env, master, None, resources, Recorder(resources, "master"))
        session.show_progress(counter)
        master.start(workers, spawn_rate=workers)
        status = _wait(
            lambda: len(summaries) >= workers,
            session,
            on_interrupt=lambda: _stop_workers(master, summaries, workers),
        )
    except Exception as exc:
        if isinstance(exc, RunFailed):
            log.error("%s", exc)
        else:
            log.exception("the run failed")
        status = "failed"
    finally:
        if session is not None:
            session.close()
        else:
            master.quit()
        _stop_processes(procs)
        for table in shards.values():
            table.close()
        resources.close()
        dropped = sum(int(v.get("dropped", 0)) for v in summaries.values())
        meta = finish_meta(
            p.meta or base_meta(p, workers),
            status,
            list(summaries.values()),
            dropped,
            run_dir=p.run_dir,
        )
        if len(summaries) < workers and status == "complete":
            meta["status"] = "failed"
        rundir.write_meta(p.run_dir, meta)
    return RunResult(p.run_dir, meta["status"], meta)


class MasterCounter:
    """Journey counts for the master's progress line, from the record batches workers ship
    (Locust's aggregated stats on the master count requests, not journeys)."""

    def __init__(self) -> None:
        self.journeys = 0
        self.journeys_ok = 0
        self.dropped = 0

    def add(self, batch: pa.RecordBatch) -> None:
        kind, outcome = batch.column("kind"), batch.column("outcome")
        journey = pc.equal(kind, "journey")
        self.journeys += _count_true(journey)
        self.journeys_ok += _count_true(pc.and_(journey, pc.equal(outcome, record.OK)))
        self.dropped += _count_true(pc.equal(kind, "dropped"))


def _count_true(mask: pa.Array) -> int:
    return int(pc.sum(mask.cast(pa.int64())).as_py() or 0)


def _wait_for_workers(
    master: Any, workers: int, procs: list[subprocess.Popen[bytes]], timeout: float
) -> None:
    deadline = time.time() + timeout
    while master.worker_count < workers:
        if time.time() > deadline:
            raise RunFailed(
                f"only {master.worker_count} of {workers} workers connected within {timeout:.0f} s"
            )
        if procs and any(proc.poll() is not None for proc in procs):
            raise RunFailed("a worker process exited before the run started (see its output above)")
        gevent.sleep(0.1)


def _stop_workers(master: Any, summaries: dict[str, Any], workers: int) -> None:
    master.send_message(MSG_STOP, None)
    deadline = time.time() + 3
    while len(summaries) < workers and time.time() < deadline:
        gevent.sleep(0.05)


def _stop_processes(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


# --- finishing -------------------------------------------------------------------------------


def _levels(curves: dict[str, RateCurve], t0: float) -> list[dict[str, float]]:
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


def finish_meta(
    meta: dict[str, Any],
    status: str,
    workers: list[dict[str, Any]],
    dropped: int,
    run_dir: Path | None = None,
) -> dict[str, Any]:
    ended = time.time()
    meta = dict(meta)
    meta["status"] = status
    meta["ended_at"] = ended
    meta["duration_s"] = round(ended - meta["started_at"], 3) if meta.get("started_at") else None
    shortfall = sorted(
        (w for s in workers for w in s.get("shortfall", [])), key=lambda w: w["start"]
    )
    meta["traffic"] = {
        **meta["traffic"],
        "started_journeys": sum(int(s.get("started", 0)) for s in workers),
        "persons": sum(int(s.get("persons", 0)) for s in workers),
        "dropped_journeys": dropped,
        "requests": sum(int(s.get("requests", 0)) for s in workers),
        "shortfall": shortfall,
        "on_schedule": not shortfall,
    }
    meta["harness"] = {
        **meta["harness"],
        "worker_cpu_s": {s["worker"]: s.get("cpu_s") for s in workers if "worker" in s},
    }
    if run_dir is not None:  # resources.parquet is closed by now; None when no harness was sampled
        meta["harness"]["generator_bound_s"] = generator_bound_s(
            run_dir, meta.get("started_at"), ended
        )
    if shortfall:
        log.warning(
            "arrivals fell short of the schedule in %d window(s) (cap reached or generator "
            "too slow): see meta.json traffic.shortfall",
            len(shortfall),
        )
    return meta


def _own_cpu_s() -> float:
    cpu = psutil.Process(os.getpid()).cpu_times()
    return round(cpu.user + cpu.system, 3)


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
