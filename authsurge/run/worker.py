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


def serve(master_host: str, master_port: int) -> int:
    env = Environment(user_classes=[SurgeDriver], events=Events())  # the process's own
    runner = env.create_worker_runner(master_host, master_port)
    state: dict[str, Any] = {}

    def send(kind: str, name: str) -> Any:
        return lambda data: runner.send_message(kind, {"worker": name, "data": data})

    def on_setup(environment: Any, msg: Any, **_: Any) -> None:
        data = msg.data
        scenario = Scenario.model_validate(data["scenario"])
        scenario.source = Path(data["source"]) if data.get("source") else None
        curves = {n: RateCurve(np.array(t), np.array(r)) for n, (t, r) in data["curves"].items()}
        name = f"worker-{runner.worker_index}"
        requests = record.ShippingTable(record.REQUEST_SCHEMA, send(MSG_RECORDS, name))
        resources = record.ShippingTable(record.RESOURCE_SCHEMA, send(MSG_RESOURCES, name))
        recorder = Recorder(requests, name)  # type: ignore[arg-type]
        recorder.attach(environment.events)
        setup = DriverSetup(
            scenario=scenario,
            curves=curves,
            t0=data["t0"],
            worker_index=runner.worker_index,
            worker_count=data["worker_count"],
            recorder=recorder,
        )
        environment.authsurge = setup
        lag = LoopLag().start()
        sampler = ResourceSampler(resources, [], name, lag.read).start()  # type: ignore[arg-type]
        flusher = record.Flusher([requests, resources]).start()  # type: ignore[list-item]
        state.update(setup=setup)

        def finish() -> None:
            setup.done.wait()
            recorder.detach()
            sampler.stop()
            lag.stop()
            flusher.stop()
            requests.close()
            resources.close()
            runner.send_message(MSG_DONE, setup.summary())

        gevent.spawn(finish)

    def on_stop(environment: Any, msg: Any, **_: Any) -> None:
        setup = state.get("setup")
        if setup is not None:
            gevent.spawn(setup.stop_driver)

    runner.register_message(MSG_SETUP, on_setup)
    runner.register_message(MSG_STOP, on_stop)
    runner.greenlet.join()
    return ExitStatus.SUCCESS


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
