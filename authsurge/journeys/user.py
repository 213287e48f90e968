"""A closed-model Locust user for your own locustfile: runs authsurge journeys back to back.

    from locust import between
    from authsurge.journeys import JourneyUser

    class WebLogin(JourneyUser):
        scenario_file = "scenarios/demo_spike.yaml"
        journey = "web_login"                     # a journey of the scenario ...
        wait_time = between(1, 3)

    class SsoThenApi(JourneyUser):
        scenario_file = "scenarios/demo_spike.yaml"
        journey = ["oidc_login", "api", "oidc_logout"]   # ... or step groups composed here

Every request shows up in Locust's statistics under its step name (login.submit, ...).
The closed model under-reports collapse (a slow target slows its own arrivals); for
surge measurements use `authsurge run`, which drives the same journeys open-model.
"""

from __future__ import annotations  # noqa: I001 - gevent/locust sort first: they patch before ssl

from locust import User, constant, task

import gevent

import itertools
import time
from collections.abc import Sequence
from typing import Any, ClassVar

from authsurge.journeys.credentials import AccountPool, load_scenario_secrets
from authsurge.journeys.journey import Journey, build_journeys, compose
from authsurge.journeys.client import HttpSettings
from authsurge.journeys.state import JourneyContext, JourneyResult
from authsurge.scenario import Scenario, load_scenario


class JourneyUser(User):
    abstract = True
    wait_time = constant(0)

    scenario_file: ClassVar[str | None] = None
    """The scenario whose flows, credentials and target this user uses."""
    scenario: ClassVar[Scenario | None] = None
    """Or the scenario itself, already loaded."""
    journey: ClassVar[str | Sequence[str] | Journey | None] = None
    """A journey name from the scenario, a list of step groups, or a built Journey."""
    report_journeys: ClassVar[bool] = False
    """Also fire one request event per journey (request_type "JOURNEY"), for Locust's UI."""

    _ids = itertools.count(1)
    _prepared: ClassVar[dict[type, tuple[Journey, AccountPool | None, str]]] = {}

    @classmethod
    def prepare(cls) -> tuple[Journey, AccountPool | None, str]:
        """Build the journey and the account pool once per class (shared by its users)."""
        if cls not in cls._prepared:
            scenario = cls.scenario or (
                load_scenario(cls.scenario_file) if cls.scenario_file else None
            )
            if scenario is None:
                raise ValueError(f"{cls.__name__}: set scenario_file (or scenario)")
            secrets = load_scenario_secrets(scenario)
            base_dir = scenario.source.parent if scenario.source else None
            if isinstance(cls.journey, Journey):
                journey = cls.journey
            elif isinstance(cls.journey, str):
                journey = build_journeys(scenario, secrets)[cls.journey]
            elif cls.journey:
                secrets = _secrets_for(scenario, list(cls.journey))
                journey = compose(
                    cls.__name__,
                    list(cls.journey),
                    scenario.flows,
                    secrets,
                    HttpSettings.from_target(scenario.target, base_dir),
                )
            else:
                raise ValueError(f"{cls.__name__}: set journey")
            accounts = None
            if journey.needs_account:
                # a scenario journey's own accounts (journeys.<name>.accounts), if it has them
                name = cls.journey if isinstance(cls.journey, str) else ""
                accounts = AccountPool(scenario.accounts_of(name), secrets.password, base_dir)
            cls._prepared[cls] = (journey, accounts, scenario.target.base_url)
        return cls._prepared[cls]

    @task
    def run_journey(self) -> None:
        journey, accounts, base_url = self.prepare()
        account = None
        if accounts is not None:
            account = accounts.acquire()
            if account is None:  # every account busy: wait rather than share one
                gevent.sleep(0.1)
                return
        n = next(self._ids)
        t = time.time()
        ctx = JourneyContext(
            environment=self.environment,
            base_url=self.host or base_url,
            account=account,
            journey=journey.name,
            journey_id=f"locust-j{n}",
            person_id=f"locust-u{id(self):x}",
            attempt=1,
            t_intended=t,
            worker="locust",
        )
        try:
            result = journey.run(ctx)
        finally:
            if account is not None and accounts is not None:
                accounts.release(account)
        if self.report_journeys:
            self.environment.events.request.fire(
                request_type="JOURNEY",
                name=journey.name,
                response_time=(time.time() - t) * 1000,
                response_length=0,
                response=None,
                start_time=t,
                url="",
                exception=None if result.ok else RuntimeError(f"{result.step}: {result.reason}"),
                context={"journey": journey.name, "outcome": result.outcome},
            )
        self.on_journey(result, ctx)

    def on_journey(self, result: JourneyResult, ctx: JourneyContext) -> None:
        """Override to react to a journey's result (e.g. record it, or stop the user after a failure)."""


def _secrets_for(scenario: Scenario, groups: list[str]) -> Any:
    """Secrets for step groups that may not be in any journey of the scenario."""
    probe = scenario.model_copy(
        update={
            "journeys": {
                "_": scenario.journeys[next(iter(scenario.journeys))].model_copy(
                    update={"steps": groups}
                )
            }
        }
    )
    return load_scenario_secrets(probe)
