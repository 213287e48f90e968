"""The open model in this process: one SurgeDriver runs the whole arrival plan."""

from __future__ import annotations

import logging
import time

from authsurge.errors import BadInput
from authsurge.recorder import Recorder
from authsurge.run.base import Run, Session
from authsurge.run.driver_user import DriverSetup, SurgeDriver
from authsurge.run.options import RunResult
from authsurge.rundir import records as record
from authsurge.traffic import build_plan, curves_for
from authsurge.traffic.schedule import plan_text, totp_warning

log = logging.getLogger("authsurge.run")


class OpenRun(Run):
    """A run of the open model: arrivals come from the plan, not from finished journeys."""

    def plan_arrivals(self) -> None:
        s = self.scenario
        self.curves = curves_for(s, self.opts.rate_scale)
        if not self.curves:
            raise BadInput("the scenario plans no arrivals (traffic.shape is empty)")
        self.plan = build_plan(self.curves, s.traffic.arrivals, s.traffic.seed, s.run.max_journeys)
        peak = sum(c.peak() for c in self.curves.values())
        log.info("plan: %s", plan_text(self.plan, peak, s.run.duration_s, s.run.max_journeys))
        if (warning := totp_warning(s, self.curves)) is not None:
            log.warning("%s", warning)


class LocalRun(OpenRun):
    def drive(self) -> RunResult:
        s = self.scenario
        env = self.environment([SurgeDriver])
        requests = record.StreamTable(
            self.run_dir / "requests" / "worker-0.parquet", record.REQUEST_SCHEMA
        )
        resources = record.StreamTable(self.run_dir / "resources.parquet", record.RESOURCE_SCHEMA)
        recorder = Recorder(requests, "worker-0")
        recorder.attach(self.events)
        self.start_clock(time.time() + self.start_delay_s())
        setup = DriverSetup(
            scenario=s,
            curves=self.curves,
            t0=self.t0,
            worker_index=0,
            worker_count=1,
            recorder=recorder,
        )
        env.authsurge = setup  # type: ignore[attr-defined]
        session = Session(self, env, env.create_local_runner(), requests, resources, recorder)
        session.show_progress(recorder)
        status = session.drive(
            lambda: session.runner.start(1, spawn_rate=1),
            lambda: setup.done.is_set(),
            on_interrupt=setup.stop_driver,
        )
        return self.finish(status, [setup.summary()], recorder.dropped, session.aborted)
