"""Runs a scenario with Locust (in-process, or master + workers) and writes the run directory.

Locust runs in this process (LocalRunner) or as a master with worker processes; either
way each worker runs one `SurgeDriver` user, the open-model driver, over its slice of
the arrival plan, and records every request to its own shard.
"""

from __future__ import annotations

from locust import User, events, task  # noqa: I001 - locust first: gevent must patch before ssl
from locust.env import Environment
from locust.exception import StopUser
from locust.stats import StatsCSVFileWriter, stats_history

import gevent

import getpass
import logging
import os
import platform
import signal
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import locust as locust_pkg
import psutil

import authsurge
from authsurge import record, rundir
from authsurge.driver import OpenModelDriver, retry_policy
from authsurge.errors import TargetUnreachable
from authsurge.journeys import AccountPool, build_journeys, load_scenario_secrets
from authsurge.progress import Progress
from authsurge.recorder import Recorder
from authsurge.resources import LoopLag, ResourceSampler, target_pids
from authsurge.scenario import Scenario
from authsurge.secrets import RedactingFilter, Secret
from authsurge.traffic import build_plan, curves_for
from authsurge.traffic.schedule import planned_rate_table

log = logging.getLogger(__name__)


@dataclass
class RunOptions:
    scenario: Scenario
    out_root: Path = Path("runs")
    target_pids: list[int] = field(default_factory=list)
    rate_scale: float | None = None  # resolved trace scale (calibration)
    command: str = ""
    progress: bool = True
    start_delay_s: float = 0.5  # lets every greenlet get going before the first arrival


@dataclass
class RunResult:
    run_dir: Path
    status: str  # complete | interrupted | failed
    meta: dict[str, Any]


@dataclass
class DriverSetup:
    """Everything a worker's driver needs; attached to the Locust environment."""

    scenario: Scenario
    t0: float
    worker_index: int
    worker_count: int
    table: record.StreamTable
    recorder: Recorder
    rate_scale: float | None = None
    driver: OpenModelDriver | None = None
    done: Any = None  # gevent Event

    def make_driver(self, environment: Environment) -> OpenModelDriver:
        s = self.scenario
        secrets = load_scenario_secrets(s)
        curves = curves_for(s, self.rate_scale)
        plan = build_plan(curves, s.traffic.arrivals, s.traffic.seed, s.run.max_journeys)
        plan = plan.slice_for(self.worker_index, self.worker_count)
        journeys = build_journeys(s, secrets)
        needs_accounts = any(j.needs_account for j in journeys.values())
        accounts = (AccountPool(s.credentials, secrets.password, s.source.parent if s.source else None,
                                worker_index=self.worker_index, worker_count=self.worker_count)
                    if needs_accounts else None)
        share = self.worker_count
        self.driver = OpenModelDriver(
            environment=environment, plan=plan, journeys=journeys, accounts=accounts,
            recorder=self.recorder, retry=retry_policy(s.behaviour.retry, s.traffic.seed, self.worker_index),
            base_url=s.target.base_url, t0=self.t0, deadline=self.t0 + s.run.duration_s,
            max_concurrency=max(1, s.traffic.max_concurrency // share),
            max_journeys=max(1, s.run.max_journeys // share), worker=self.recorder.worker)
        return self.driver


class SurgeDriver(User):
    """One per worker: runs the open-model driver over the worker's slice of the plan."""

    fixed_count = 0  # dispatched explicitly by the runner, never by weight

    @task
    def drive(self) -> None:
        setup: DriverSetup = self.environment.authsurge  # type: ignore[attr-defined]
        try:
            driver = setup.make_driver(self.environment)
            driver.run()
            # people who are retrying keep arriving until the deadline
            while driver.thinking and time.time() < driver.deadline and not driver.stopping:
                gevent.sleep(0.1)
            driver.drain(setup.scenario.run.drain_s)
        finally:
            if setup.done is not None:
                setup.done.set()
        raise StopUser()


def check_reachable(base_url: str, timeout: float = 5.0) -> None:
    """Any HTTP answer will do; a refused or silent connection stops the run before it starts."""
    try:
        urllib.request.urlopen(base_url + "/", timeout=timeout)  # noqa: S310 - the scenario's own target
    except urllib.error.HTTPError:
        return
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TargetUnreachable(f"target {base_url} is not reachable ({reason}); nothing was run") from None


def base_meta(opts: RunOptions, run_dir: Path, t0: float, pids: list[int]) -> dict[str, Any]:
    s = opts.scenario
    shape = s.traffic.shape
    return {
        "run_id": run_dir.name,
        "scenario": s.name,
        "scenario_file": str(s.source) if s.source else None,
        "status": "running",
        "started_at": t0,
        "ended_at": None,
        "duration_s": None,
        "planned_duration_s": s.run.duration_s,
        "target": {"base_url": s.target.base_url, "version": s.target.version,
                   "git_commit": s.target.git_commit, "pids": pids},
        "harness": {"authsurge": authsurge.__version__, "locust": locust_pkg.__version__,
                    "python": platform.python_version(), "host": socket.gethostname(),
                    "user": getpass.getuser(), "cpu_count": psutil.cpu_count() or 1, "workers": 1},
        "traffic": {"model": s.traffic.model, "shape": shape.kind if shape else None,
                    "arrivals": s.traffic.arrivals, "rate_scale": opts.rate_scale},
        "levels": [],
        "analysis": s.analysis.model_dump(mode="json"),
        "slos": [slo.model_dump(mode="json") for slo in s.slos],
        "command": opts.command,
    }


def run(opts: RunOptions) -> RunResult:
    """Run the scenario; always leaves an analyzable run directory, even on Ctrl-C or a crash."""
    s = opts.scenario
    if s.traffic.model != "open":
        from authsurge.closed import run_closed  # the classic Locust user-count model
        return run_closed(opts)
    load_scenario_secrets(s)  # fail before anything starts when a secret is missing
    check_reachable(s.target.base_url, timeout=min(5.0, s.target.timeout_s))
    curves = curves_for(s, opts.rate_scale)
    plan = build_plan(curves, s.traffic.arrivals, s.traffic.seed, s.run.max_journeys)
    pids = opts.target_pids or target_pids(s.target.base_url, s.target.pids,
                                           s.resolve_path(s.target.pid_file) if s.target.pid_file else None,
                                           s.target.port)
    t0 = time.time() + opts.start_delay_s
    run_dir = rundir.new_run_dir(opts.out_root, s.name, t0)
    rundir.write_scenario(run_dir, s.public_dict())
    rundir.write_schedule(run_dir, planned_rate_table(curves, t0))
    meta = base_meta(opts, run_dir, t0, pids)
    levels = _levels(curves, t0)
    meta["levels"] = levels
    meta["traffic"]["planned_journeys"] = len(plan)
    meta["traffic"]["peak_rate"] = round(sum(c.peak() for c in curves.values()), 3)
    rundir.write_meta(run_dir, meta)
    log.info("run directory: %s", run_dir)

    requests = record.StreamTable(run_dir / "requests" / "worker-0.parquet", record.REQUEST_SCHEMA)
    resources = record.StreamTable(run_dir / "resources.parquet", record.RESOURCE_SCHEMA)
    recorder = Recorder(requests, "worker-0")
    flusher = record.Flusher([requests, resources]).start()
    env = Environment(user_classes=[SurgeDriver], events=events, host=s.target.base_url)
    recorder.attach(env.events)
    secrets = load_scenario_secrets(s)
    redact = RedactingFilter(all_secrets(secrets))
    logging.getLogger().addFilter(redact)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)
    setup = DriverSetup(scenario=s, t0=t0, worker_index=0, worker_count=1, table=requests,
                        recorder=recorder, rate_scale=opts.rate_scale, done=gevent.event.Event())
    env.authsurge = setup  # type: ignore[attr-defined]
    runner = env.create_local_runner()
    lag = LoopLag().start()
    sampler = ResourceSampler(resources, pids, "worker-0", lag.read).start()
    csv_writer = StatsCSVFileWriter(env, [0.5, 0.9, 0.95, 0.99, 1.0], str(run_dir / "locust" / "stats"),
                                    full_history=True)
    greenlets = [gevent.spawn(stats_history, runner), gevent.spawn(csv_writer.stats_writer)]
    progress = Progress(plan, t0, s.run.duration_s, recorder, env, sampler, enabled=opts.progress)
    greenlets.append(gevent.spawn(progress.run))

    status = "complete"
    interrupted = gevent.event.Event()

    def on_sigint() -> None:
        interrupted.set()
        if setup.driver is not None:
            setup.driver.stopping = True

    gevent.signal_handler(signal.SIGINT, on_sigint)
    gevent.signal_handler(signal.SIGTERM, on_sigint)
    try:
        runner.start(1, spawn_rate=1)
        bound = s.run.duration_s + s.run.drain_s + opts.start_delay_s + 10
        finished = _wait_any(setup.done, interrupted, bound)
        if interrupted.is_set():
            status = "interrupted"
            # Ctrl-C: stop the load now, keep what was recorded
            if setup.driver is not None:
                setup.driver.drain(timeout=1.0)
        elif not finished:
            status = "failed"
            log.error("the run did not finish within its bound of %.0f s; stopping it", bound)
    except Exception as exc:
        status = "failed"
        log.exception("the run failed: %s", type(exc).__name__)
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        progress.stop()
        runner.quit()
        for g in greenlets:
            g.kill(block=False)
        try:
            csv_writer.close_files()
        except Exception:  # Locust's CSVs are a courtesy; ours are the record
            log.debug("closing Locust CSV files failed", exc_info=True)
        lag.stop()
        sampler.stop()
        flusher.stop()
        requests.close()
        resources.close()
        logging.getLogger().removeFilter(redact)
        for handler in logging.getLogger().handlers:
            handler.removeFilter(redact)
        meta = _finish_meta(meta, status, setup, recorder, sampler)
        rundir.write_meta(run_dir, meta)
    return RunResult(run_dir, status, meta)


def _wait_any(done: Any, interrupted: Any, bound: float) -> bool:
    deadline = time.time() + bound
    while time.time() < deadline:
        if done.wait(timeout=0.2) or interrupted.is_set():
            return done.is_set()
    return False


def _levels(curves: dict[str, Any], t0: float) -> list[dict[str, float]]:
    """Plateaus of the total planned rate, when every journey's curve has the same plateaus."""
    level_lists = [c.levels for c in curves.values()]
    if not level_lists or not all(level_lists) or any(
            [(a, b) for a, b, _ in lv] != [(a, b) for a, b, _ in level_lists[0]] for lv in level_lists):
        return []
    return [{"start": t0 + a, "end": t0 + b, "rate": round(sum(lv[i][2] for lv in level_lists), 6)}
            for i, (a, b, _) in enumerate(level_lists[0])]


def _finish_meta(meta: dict[str, Any], status: str, setup: DriverSetup, recorder: Recorder,
                 sampler: ResourceSampler) -> dict[str, Any]:
    ended = time.time()
    meta = dict(meta)
    meta["status"] = status
    meta["ended_at"] = ended
    meta["duration_s"] = round(ended - meta["started_at"], 3)
    driver = setup.driver
    traffic = dict(meta["traffic"])
    traffic["started_journeys"] = driver.started if driver else 0
    traffic["persons"] = driver.persons if driver else 0
    traffic["dropped_journeys"] = recorder.dropped
    traffic["requests"] = recorder.requests
    shortfall = driver.shortfall.windows(meta["started_at"]) if driver else []
    traffic["shortfall"] = shortfall
    traffic["on_schedule"] = not shortfall
    meta["traffic"] = traffic
    proc = psutil.Process(os.getpid())
    cpu = proc.cpu_times()
    meta["harness"] = {**meta["harness"], "worker_cpu_s": {recorder.worker: round(cpu.user + cpu.system, 3)}}
    if shortfall:
        log.warning("arrivals fell short of the schedule in %d window(s): see meta.json traffic.shortfall",
                    len(shortfall))
    return meta


def all_secrets(secrets: Any) -> list[Secret]:
    """Every Secret held by a ScenarioSecrets (attributes, or values of dict attributes)."""
    found: list[Secret] = []
    for value in vars(secrets).values():
        values = value.values() if isinstance(value, dict) else [value]
        found += [v for v in values if isinstance(v, Secret)]
    return found
