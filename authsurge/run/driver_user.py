"""The open-model driver as one Locust user per worker, and what each worker's driver needs.

Every run mode that drives the open model (local, master's workers, worker) runs one
`SurgeDriver` per process; its `DriverSetup` hangs on the Locust environment.
"""

from __future__ import annotations

import gevent
import gevent.event
from locust import User, task  # noqa: I001 - locust first: gevent must patch before ssl
from locust.env import Environment
from locust.exception import StopUser

import os
import time
from dataclasses import dataclass, field
from typing import Any

import psutil

from authsurge.driver import OpenModelDriver, retry_policy
from authsurge.journeys import AccountPools, build_journeys, load_scenario_secrets
from authsurge.population import Population, population_steps
from authsurge.recorder import Recorder
from authsurge.scenario import Scenario
from authsurge.traffic import build_plan
from authsurge.traffic.shapes import RateCurve
from authsurge.worker_context import WorkerContext

# the messages between a master and its workers
MSG_SETUP, MSG_STOP = "authsurge_setup", "authsurge_stop"
MSG_RECORDS, MSG_RESOURCES, MSG_DONE = "authsurge_records", "authsurge_resources", "authsurge_done"


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
    population: Population | None = None
    done: Any = field(default_factory=gevent.event.Event)

    def make_driver(self, environment: Environment) -> OpenModelDriver:
        s, share = self.scenario, self.worker_count
        secrets = load_scenario_secrets(s)
        plan = build_plan(self.curves, s.traffic.arrivals, s.traffic.seed, s.run.max_journeys)
        journeys = build_journeys(s, secrets)
        accounts = None
        if needing := [name for name, j in journeys.items() if j.needs_account]:
            accounts = AccountPools(
                s,
                secrets.password,
                needing,
                worker_index=self.worker_index,
                worker_count=share,
            )
        context = WorkerContext(
            environment=environment,
            accounts=accounts,
            recorder=self.recorder,
            retry=retry_policy(s.behaviour.retry, s.traffic.seed, self.worker_index),
            base_url=s.target.base_url,
            t0=self.t0,
            deadline=self.t0 + s.run.duration_s,
            worker=self.recorder.worker,
        )
        if s.population is not None:
            self.population = Population(
                context=context,
                config=s.population,
                steps=population_steps(s, secrets, journeys),
                worker_index=self.worker_index,
                worker_count=share,
                seed=s.traffic.seed,
            )
        self.driver = OpenModelDriver(
            context=context,
            plan=plan.slice_for(self.worker_index, share),
            journeys=journeys,
            max_concurrency=max(1, s.traffic.max_concurrency // share),
            max_journeys=max(1, s.run.max_journeys // share),
            population=self.population,
        )
        return self.driver

    def stop_driver(self) -> None:
        """Stop starting journeys and give those in flight a second (Ctrl-C, or the master)."""
        if self.population is not None:
            self.population.stop(timeout=1.0)
        if self.driver is not None:
            self.driver.stopping = True
            self.driver.drain(timeout=1.0)

    def summary(self) -> dict[str, Any]:
        d = self.driver
        return {
            "worker": self.recorder.worker,
            "started": d.started if d else 0,
            "persons": d.persons if d else 0,
            "dropped": self.recorder.dropped,
            "requests": self.recorder.requests,
            "shortfall": d.shortfall.windows(self.t0) if d else [],
            "cpu_s": own_cpu_s(),
            **({"population": self.population.counts.as_dict()} if self.population else {}),
        }


class SurgeDriver(User):
    """One per worker: runs the open-model driver over the worker's slice of the plan."""

    @task
    def drive(self) -> None:
        setup: DriverSetup | None = getattr(self.environment, "authsurge", None)
        if setup is None or setup.done.is_set():
            # a run that could not start, or one that has ended (under `locust -f`, a
            # test start whose setup never came): nothing to drive
            raise StopUser()
        try:
            driver = setup.make_driver(self.environment)
            if setup.population is not None:
                setup.population.start()  # the warm-up, before t0
            driver.run()
            # people who are retrying (and the signed-in population) go on until the deadline
            while (
                (len(driver.thinking) or setup.population is not None)
                and time.time() < driver.ctx.deadline
                and not driver.stopping
            ):
                gevent.sleep(0.1)
            if setup.population is not None:
                setup.population.stop(timeout=setup.scenario.run.drain_s)
            driver.drain(setup.scenario.run.drain_s)
        finally:
            setup.done.set()
        raise StopUser()


def own_cpu_s() -> float:
    """CPU seconds this process has used (a worker's summary: how busy the generator was)."""
    cpu = psutil.Process(os.getpid()).cpu_times()
    return round(cpu.user + cpu.system, 3)
