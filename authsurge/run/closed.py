"""The closed model: Locust's classic user count, each user running journeys back to back.

Kept for people who want it and for `locust -f locustfiles/closed_users.py`. It under-reports
collapse (a slow target slows its own arrivals); `authsurge run` uses the open model.
"""

from __future__ import annotations

from locust import User  # noqa: I001 - locust first: gevent must patch before ssl

import time

from authsurge.journeys import JourneyContext, JourneyResult, JourneyUser, load_scenario_secrets
from authsurge.recorder import Recorder
from authsurge.run.base import Run, Session
from authsurge.run.driver_user import own_cpu_s
from authsurge.run.options import RunResult
from authsurge.rundir import records as record
from authsurge.scenario import Scenario


class RecordedJourneyUser(JourneyUser):
    """A JourneyUser that also writes one journey row per journey when a recorder is attached."""

    abstract = True

    def on_journey(self, result: JourneyResult, ctx: JourneyContext) -> None:
        recorder: Recorder | None = getattr(self.environment, "authsurge_recorder", None)
        if recorder is not None:
            recorder.journey(
                journey=ctx.journey,
                journey_id=ctx.journey_id,
                person_id=ctx.person_id,
                attempt=1,
                t_intended=ctx.t_intended,
                t_start=ctx.t_intended,
                t_end=time.time(),
                ok=result.ok,
                outcome=result.outcome,
                step=result.step,
                reason=result.reason,
            )


def journey_user_classes(scenario: Scenario) -> list[type[User]]:
    """One Locust User class per journey, weighted by the scenario's mix."""
    load_scenario_secrets(scenario)  # a missing secret fails here, before Locust starts
    mix = scenario.journey_mix()
    return [
        type(
            f"{name}_user",
            (RecordedJourneyUser,),
            {
                "scenario": scenario,
                "journey": name,
                "host": scenario.target.base_url,
                "weight": max(1, round(mix[name] * 100)),
                "abstract": False,
            },
        )
        for name in scenario.journeys
        if name in mix
    ]


class ClosedRun(Run):
    """`authsurge run` with traffic.model: closed (no arrival plan: users loop)."""

    def drive(self) -> RunResult:
        s = self.scenario
        closed = s.traffic.closed
        assert closed is not None  # the schema requires it for the closed model
        env = self.environment(journey_user_classes(s))
        requests = record.StreamTable(
            self.run_dir / "requests" / "worker-0.parquet", record.REQUEST_SCHEMA
        )
        resources = record.StreamTable(self.run_dir / "resources.parquet", record.RESOURCE_SCHEMA)
        recorder = Recorder(requests, "worker-0")
        recorder.attach(self.events)
        env.authsurge_recorder = recorder  # type: ignore[attr-defined]
        self.start_clock(time.time())
        session = Session(self, env, env.create_local_runner(), requests, resources, recorder)
        session.show_progress(recorder)
        deadline = time.time() + s.run.duration_s
        status = session.drive(
            lambda: session.runner.start(closed.users, spawn_rate=closed.spawn_rate),
            lambda: time.time() >= deadline,
            on_interrupt=lambda: None,
        )
        summary = {
            "worker": "worker-0",
            "requests": recorder.requests,
            "started": recorder.journeys,
            "cpu_s": own_cpu_s(),
        }
        return self.finish(status, [summary], 0, session.aborted)
