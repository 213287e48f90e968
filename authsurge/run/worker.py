"""The worker side of a MasterRun, in its own process: `authsurge worker --master-host H --master-port P`.

It waits for the master's setup message (scenario, rate curves, start time), runs its
slice of the plan and ships records to the master once a second. Secrets come from this
machine's own environment, never over the wire.
"""

from __future__ import annotations

import gevent
from locust.env import Environment  # noqa: I001 - locust first: gevent must patch before ssl
from locust.event import Events

import argparse
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from authsurge import crashlog
from authsurge.errors import ExitStatus
from authsurge.recorder import Recorder
from authsurge.resources import LoopLag, ResourceSampler
from authsurge.run.driver_user import (
    MSG_DONE,
    MSG_RECORDS,
    MSG_RESOURCES,
    MSG_SETUP,
    MSG_STOP,
    DriverSetup,
    SurgeDriver,
)
from authsurge.rundir import records as record
from authsurge.scenario import Scenario
from authsurge.traffic.shapes import RateCurve

log = logging.getLogger("authsurge.worker")


class WorkerRun:
    """The other end of a MasterRun: drives this worker's slice of the plan, ships its rows.

    Like every run it owns its Locust `Events()` and detaches its recorder when its
    driver is done; it writes no run directory (the master does).
    """

    def __init__(self, env: Environment, runner: Any) -> None:
        self.env, self.events, self.runner = env, env.events, runner
        self.setup: DriverSetup | None = None
        self.runner.register_message(MSG_SETUP, self.on_setup)
        self.runner.register_message(MSG_STOP, self.on_stop)
        # Locust's own stop (its master's Stop, Ctrl-C) kills the driver's user: first let
        # the driver stop starting journeys and record those in flight
        self.events.test_stopping.add_listener(lambda **_: self.stop_driver())

    @classmethod
    def connect(cls, master_host: str, master_port: int) -> WorkerRun:
        """`authsurge worker`: a worker of its own, with its own Locust Events."""
        env = Environment(user_classes=[SurgeDriver], events=Events())
        return cls(env, env.create_worker_runner(master_host, master_port))

    @classmethod
    def hosted(cls, environment: Environment) -> WorkerRun:
        """A worker Locust's command line made (`--worker`, `--processes`)."""
        return cls(environment, environment.runner)

    def execute(self) -> int:
        self.runner.greenlet.join()
        return ExitStatus.SUCCESS

    def send(self, kind: str, name: str, run: str | None) -> Any:
        """Ship to the master, naming this worker and the run (a late message of an
        earlier run is then told apart)."""
        return lambda data: self.runner.send_message(
            kind, {"worker": name, "data": data, "run": run}
        )

    def on_setup(self, environment: Any, msg: Any, **_: Any) -> None:
        data = msg.data
        if self.setup is not None and not self.setup.done.is_set():
            log.warning("a new run's setup before the last run ended: ending the last one")
            self.setup.stop_driver()
            self.setup.done.set()  # its finish() ships what it has and detaches
        scenario = Scenario.model_validate(data["scenario"])
        scenario.source = Path(data["source"]) if data.get("source") else None
        curves = {n: RateCurve(np.array(t), np.array(r)) for n, (t, r) in data["curves"].items()}
        # the master's index for this run (0..N-1), else Locust's, which only grows
        index = int(data.get("worker_index", self.runner.worker_index))
        name, run = f"worker-{index}", data.get("run")
        requests = record.ShippingTable(record.REQUEST_SCHEMA, self.send(MSG_RECORDS, name, run))
        resources = record.ShippingTable(
            record.RESOURCE_SCHEMA, self.send(MSG_RESOURCES, name, run)
        )
        recorder = Recorder(requests, name)  # type: ignore[arg-type]
        recorder.attach(self.events)
        setup = DriverSetup(
            scenario=scenario,
            curves=curves,
            t0=data["t0"],
            worker_index=index,
            worker_count=data["worker_count"],
            recorder=recorder,
        )
        environment.authsurge = setup
        lag = LoopLag().start()
        sampler = ResourceSampler(resources, [], name, lag.read).start()  # type: ignore[arg-type]
        flusher = record.Flusher([requests, resources]).start()  # type: ignore[list-item]
        self.setup = setup

        def finish() -> None:
            setup.done.wait()
            recorder.detach()
            sampler.stop()
            lag.stop()
            flusher.stop()
            requests.close()
            resources.close()
            self.runner.send_message(MSG_DONE, {**setup.summary(), "run": run})

        gevent.spawn(finish)

    def on_stop(self, environment: Any, msg: Any, **_: Any) -> None:
        if self.setup is not None:
            gevent.spawn(self.setup.stop_driver)

    def stop_driver(self) -> None:
        if self.setup is not None and not self.setup.done.is_set():
            self.setup.stop_driver()


def serve(master_host: str, master_port: int) -> int:
    """`authsurge worker`: serve one MasterRun until the master quits."""
    return WorkerRun.connect(master_host, master_port).execute()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="authsurge worker", description=__doc__)
    parser.add_argument("--master-host", default="127.0.0.1")
    parser.add_argument("--master-port", type=int, default=5557)
    parser.add_argument(
        "--local",
        action="store_true",
        help="started by a local master: leave Ctrl-C to the master, which stops the run",
    )
    args = parser.parse_args(argv)
    if args.local:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # a local worker's crash: one line (the master says to look above), traceback in a file
    return crashlog.run_command(
        lambda: serve(args.master_host, args.master_port), "worker", prog="authsurge worker"
    )


if __name__ == "__main__":
    sys.exit(main())
