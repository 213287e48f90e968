"""The open model over worker processes: this process is Locust's master and owns the run
directory; workers (local processes, or `authsurge worker` on other machines) drive their
slices of the plan and ship their records here."""

from __future__ import annotations

import gevent

import logging
import socket
import subprocess
import sys
import time
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from authsurge.errors import RunFailed
from authsurge.recorder import Recorder
from authsurge.run.base import Session
from authsurge.run.driver_user import (
    MSG_DONE,
    MSG_RECORDS,
    MSG_RESOURCES,
    MSG_SETUP,
    MSG_STOP,
    SurgeDriver,
)
from authsurge.run.ingest import RecordIngest
from authsurge.run.local import OpenRun
from authsurge.run.options import RunResult
from authsurge.rundir import records as record

log = logging.getLogger("authsurge.run")


class MasterRun(OpenRun):
    """Master in this process; local worker processes unless remote ones are expected."""

    def drive(self) -> RunResult:
        s = self.scenario
        workers = self.workers
        env = self.environment([SurgeDriver])
        host, port = self.opts.master_bind
        if port == 0:
            port = free_port(host)
        master = env.create_master_runner(master_bind_host=host, master_bind_port=port)
        resources = record.StreamTable(self.run_dir / "resources.parquet", record.RESOURCE_SCHEMA)
        summaries: dict[str, dict[str, Any]] = {}
        counter = MasterCounter()
        observers = [counter.add] + ([self.live.state.observe] if self.live is not None else [])
        ingest = RecordIngest(self.run_dir, resources, observers)

        def on_records(environment: Any, msg: Any, **_: Any) -> None:
            ingest.records(msg.data)

        def on_resources(environment: Any, msg: Any, **_: Any) -> None:
            ingest.resource_samples(msg.data)

        def on_done(environment: Any, msg: Any, **_: Any) -> None:
            if msg.data["worker"] not in ingest.refused:  # its rows are not here: not done
                summaries[msg.data["worker"]] = msg.data

        master.register_message(MSG_RECORDS, on_records)
        master.register_message(MSG_RESOURCES, on_resources)
        master.register_message(MSG_DONE, on_done)
        procs: list[subprocess.Popen[bytes]] = []
        if self.opts.expect_workers is None:
            command = [sys.executable, "-m", "authsurge.run.worker"]
            procs = [
                subprocess.Popen(
                    [*command, "--master-host", host, "--master-port", str(port), "--local"]
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
        session: Session | None = None
        try:
            wait_for_workers(master, workers, procs, timeout=60 if procs else 600)
            self.start_clock(time.time() + self.start_delay_s() + 1.0)
            master.send_message(
                MSG_SETUP,
                {
                    "scenario": s.model_dump(mode="json"),
                    "source": str(s.source) if s.source else None,
                    "curves": {
                        n: [c.times.tolist(), c.rates.tolist()] for n, c in self.curves.items()
                    },
                    "t0": self.t0,
                    "worker_count": workers,
                },
            )
            session = Session(self, env, master, None, resources, Recorder(resources, "master"))
            session.show_progress(counter)
            master.start(workers, spawn_rate=workers)
            status = session.wait(
                lambda: len(summaries) >= workers,
                on_interrupt=lambda: stop_workers(master, summaries, workers),
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
            stop_processes(procs)
            ingest.close()
            resources.close()
        if len(summaries) < workers and status == "complete":
            status = "failed"
        dropped = sum(int(v.get("dropped", 0)) for v in summaries.values())
        aborted = session.aborted if session is not None else None
        return self.finish(status, list(summaries.values()), dropped, aborted)


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
        self.journeys += count_true(journey)
        self.journeys_ok += count_true(pc.and_(journey, pc.equal(outcome, record.OK)))
        self.dropped += count_true(pc.equal(kind, "dropped"))


def count_true(mask: pa.Array) -> int:
    return int(pc.sum(mask.cast(pa.int64())).as_py() or 0)


def wait_for_workers(
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


def stop_workers(master: Any, summaries: dict[str, Any], workers: int) -> None:
    master.send_message(MSG_STOP, None)
    deadline = time.time() + 3
    while len(summaries) < workers and time.time() < deadline:
        gevent.sleep(0.05)


def stop_processes(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
