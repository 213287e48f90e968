"""The closed model: Locust's classic user count, each user running journeys back to back.

Kept for people who want it and for `locust -f locustfiles/surge.py`. It under-reports
collapse (a slow target slows its own arrivals); `authsurge run` uses the open model.
"""

from __future__ import annotations

from locust import User  # noqa: I001 - locust first: gevent must patch before ssl
from locust.env import Environment
from locust.event import Events

import time
from typing import Any

from authsurge import crashlog, record, rundir
from authsurge.journeys import JourneyContext, JourneyResult, JourneyUser, load_scenario_secrets
from authsurge.recorder import Recorder
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


def run_closed(opts: Any) -> Any:
    """`authsurge run` with traffic.model: closed."""
    from authsurge import runner as r

    s: Scenario = opts.scenario
    closed = s.traffic.closed
    assert closed is not None  # the schema requires it for the closed model
    secrets = load_scenario_secrets(s)
    r.check_reachable(s.target.base_url, timeout=min(5.0, s.target.timeout_s), tls=r.tls_context(s))
    classes = journey_user_classes(s)
    run_dir = rundir.new_run_dir(opts.out_root, s.name)
    crashlog.set_run_dir(run_dir)  # an internal error from here on logs its traceback there
    rundir.write_scenario(run_dir, s.public_dict())
    env = Environment(user_classes=classes, events=Events(), host=s.target.base_url)
    requests = record.StreamTable(run_dir / "requests" / "worker-0.parquet", record.REQUEST_SCHEMA)
    resources = record.StreamTable(run_dir / "resources.parquet", record.RESOURCE_SCHEMA)
    recorder = Recorder(requests, "worker-0")
    recorder.attach(env.events)
    env.authsurge_recorder = recorder  # type: ignore[attr-defined]
    import numpy as np

    from authsurge.traffic.schedule import Plan

    p = r.Prepared(
        opts,
        {},
        Plan(np.empty(0), np.empty(0, dtype=np.int32), []),
        opts.target_pids,
        run_dir,
        r.all_secrets(secrets),
    )
    p.start_clock(time.time(), workers=1)
    session = r._Session(p, env, env.create_local_runner(), requests, resources, recorder)
    session.show_progress(recorder)
    status = "complete"
    with r.redacted_logs(p.secrets):
        try:
            session.runner.start(closed.users, spawn_rate=closed.spawn_rate)
            deadline = time.time() + s.run.duration_s
            status = r._wait(lambda: time.time() >= deadline, session, on_interrupt=lambda: None)
        finally:
            session.close()
            recorder.detach(env.events)
            requests.close()
            resources.close()
            meta = r.finish_meta(
                p.meta,
                status,
                [
                    {
                        "worker": "worker-0",
                        "requests": recorder.requests,
                        "started": recorder.journeys,
                        "cpu_s": r._own_cpu_s(),
                    }
                ],
                0,
                run_dir=run_dir,
            )
            rundir.write_meta(run_dir, meta)
    return r.RunResult(run_dir, status, meta)
