"""The closed model: Locust's classic user count, each user running journeys back to back.

Kept for people who want it and for `locust -f locustfiles/surge.py`. It under-reports
collapse (a slow target slows its own arrivals); `authsurge run` uses the open model.
"""

from __future__ import annotations

import gevent
from locust import User, constant, events, task  # noqa: I001 - locust first: gevent must patch before ssl
from locust.env import Environment

import itertools
import time
from typing import Any

from authsurge import record, rundir
from authsurge.journeys import (
    AccountPool,
    Journey,
    JourneyContext,
    build_journeys,
    load_scenario_secrets,
)
from authsurge.recorder import Recorder
from authsurge.scenario import Scenario


class ClosedJourneyUser(User):
    """Runs one journey in a loop; `journey` and `accounts` are set on generated subclasses."""

    abstract = True
    wait_time = constant(0)
    journey: Journey
    accounts: AccountPool | None = None
    _ids = itertools.count(1)

    @task
    def one_journey(self) -> None:
        account = None
        if self.journey.needs_account and self.accounts is not None:
            account = self.accounts.acquire()
            if account is None:  # every account busy: wait rather than share one
                gevent.sleep(0.1)
                return
        n = next(self._ids)
        recorder: Recorder | None = getattr(self.environment, "authsurge_recorder", None)
        worker = recorder.worker if recorder else "locust"
        t = time.time()
        ctx = JourneyContext(environment=self.environment, base_url=self.host or "", account=account,
                             journey=self.journey.name, journey_id=f"{worker}-c{n}",
                             person_id=f"{worker}-u{id(self)}", attempt=1, t_intended=t, worker=worker)
        try:
            result = self.journey.run(ctx)
        finally:
            if account is not None and self.accounts is not None:
                self.accounts.release(account)
        if recorder is not None:
            recorder.journey(journey=self.journey.name, journey_id=ctx.journey_id, person_id=ctx.person_id,
                             attempt=1, t_intended=t, t_start=t, t_end=time.time(), ok=result.ok,
                             outcome=result.outcome, step=result.step, reason=result.reason)


def journey_user_classes(scenario: Scenario) -> list[type[User]]:
    """One Locust User class per journey, weighted by the scenario's mix."""
    secrets = load_scenario_secrets(scenario)
    journeys = build_journeys(scenario, secrets)
    accounts = None
    if any(j.needs_account for j in journeys.values()):
        accounts = AccountPool(scenario.credentials, secrets.password,
                               scenario.source.parent if scenario.source else None)
    mix = scenario.journey_mix()
    return [type(f"{name}_user", (ClosedJourneyUser,), {
        "journey": journey, "accounts": accounts, "host": scenario.target.base_url,
        "weight": max(1, round(mix.get(name, 0) * 100)), "abstract": False,
    }) for name, journey in journeys.items() if name in mix]


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
    rundir.write_scenario(run_dir, s.public_dict())
    env = Environment(user_classes=classes, events=events, host=s.target.base_url)
    requests = record.StreamTable(run_dir / "requests" / "worker-0.parquet", record.REQUEST_SCHEMA)
    resources = record.StreamTable(run_dir / "resources.parquet", record.RESOURCE_SCHEMA)
    recorder = Recorder(requests, "worker-0")
    recorder.attach(env.events)
    env.authsurge_recorder = recorder  # type: ignore[attr-defined]
    import numpy as np

    from authsurge.traffic.schedule import Plan

    p = r.Prepared(opts, {}, Plan(np.empty(0), np.empty(0, dtype=np.int32), []), opts.target_pids, run_dir,
                   r.all_secrets(secrets))
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
            requests.close()
            resources.close()
            meta = r.finish_meta(p.meta, status, [{"worker": "worker-0", "requests": recorder.requests,
                                                   "started": recorder.journeys, "cpu_s": r._own_cpu_s()}],
                                 0)
            rundir.write_meta(run_dir, meta)
    return r.RunResult(run_dir, status, meta)
