"""Helpers for journey tests: a recorder of request events, scenarios built in code
against the embedded target, and a way to run one journey at a time."""

from __future__ import annotations

import locust.event  # noqa: I001 - locust first: gevent must patch before ssl
from locust.env import Environment

import itertools
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from authsurge.journeys import (
    AccountPool,
    AccountPools,
    Journey,
    JourneyContext,
    JourneyResult,
    build_journeys,
    load_scenario_secrets,
)
from authsurge.scenario import Scenario, parse_scenario
from tests.support.runner import scenario_text

REDIRECT_URI = "http://127.0.0.1/callback"
POST_LOGOUT_URI = "http://127.0.0.1/logged-out"
_ids = itertools.count(1)


@dataclass
class Recorded:
    """Every request event fired into `env`, as the keyword arguments of the event."""

    env: Environment
    events: list[dict[str, Any]] = field(default_factory=list)

    def steps(self) -> list[str]:
        return [e["name"] for e in self.events]

    def rows(self) -> list[tuple[str, str, int, str]]:
        """(step, method, status, outcome) per request."""
        return [(e["name"], e["request_type"], e["context"]["status"], e["context"]["outcome"])
                for e in self.events]

    def failed(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e["context"]["outcome"] != "ok"]

    def clear(self) -> None:
        self.events.clear()


def new_recorded() -> Recorded:
    # A fresh Events registry per test: listeners must not leak between tests.
    rec = Recorded(Environment(events=locust.event.Events()))
    rec.env.events.request.add_listener(lambda **kw: rec.events.append(kw))
    return rec


def dot_oidc(base_url: str, client_id: str = "surge-public", **extra: Any) -> dict[str, Any]:
    """flows.oidc for the embedded target (django-oauth-toolkit)."""
    flow: dict[str, Any] = {"issuer": base_url + "/o", "client": {"client_id": client_id},
                            "redirect_uri": REDIRECT_URI, "post_logout_redirect_uri": POST_LOGOUT_URI}
    if client_id == "surge-confidential":
        flow["client"] = {"client_id": client_id, "auth_method": "client_secret_basic",
                          "secret_env": "AUTHSURGE_CLIENT_SECRET"}
    flow.update(extra)
    return flow


SERVICE_CLIENT = {"client_id": "surge-service", "auth_method": "client_secret_basic",
                  "secret_env": "AUTHSURGE_CLIENT_SECRET"}


def scenario(base_url: str, journeys: dict[str, list[str]], flows: dict[str, Any] | None = None,
             **top: Any) -> Scenario:
    data = {"name": "journey-test", "target": {"base_url": base_url}, "credentials": {"count": 50},
            "flows": flows or {}, "journeys": {k: {"steps": v} for k, v in journeys.items()},
            "traffic": {"model": "closed", "closed": {"users": 1}}}
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}  # type: ignore[dict-item]
        else:
            data[key] = value
    return Scenario.model_validate(data)


def context(recorded: Recorded, base_url: str, journey: str = "test", account: Any = None) -> JourneyContext:
    n = next(_ids)
    return JourneyContext(environment=recorded.env, base_url=base_url, account=account, journey=journey,
                          journey_id=f"j{n}", person_id=f"p{n}", attempt=1, t_intended=time.time(),
                          worker="test")


@dataclass
class Harness:
    """A scenario's journeys, its account pool, and a recorder: run journeys one by one."""

    scenario: Scenario
    journeys: dict[str, Journey]
    accounts: AccountPool | None  # the credentials' accounts
    recorded: Recorded
    pools: AccountPools | None = None  # and the journeys' own

    def run(self, name: str) -> JourneyResult:
        journey = self.journeys[name]
        account = self.pools.acquire(name) if journey.needs_account and self.pools else None
        try:
            return journey.run(context(self.recorded, self.scenario.target.base_url, name, account))
        finally:
            if account is not None and self.pools is not None:
                self.pools.release(account)


def harness(recorded: Recorded, s: Scenario, environ: dict[str, str] | None = None) -> Harness:
    secrets = load_scenario_secrets(s, environ)
    journeys = build_journeys(s, secrets)
    needing = [name for name, j in journeys.items() if j.needs_account]
    pools = AccountPools(s, secrets.password, needing) if needing else None
    return Harness(s, journeys, pools.pools.get(None) if pools else None, recorded, pools)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# abandon_after (tests/unit and tests/integration journeys/test_abandon.py): people who open
# the login page and leave, beside people who sign in
ABANDON_MIXED = """\
credentials: {count: 50}
journeys:
  browse: {steps: [form_login], abandon_after: login.form}
  web_login: {steps: [form_login, api, form_logout]}
traffic:
  model: closed
  closed: {users: 1}
  mix: {browse: 0.5, web_login: 0.5}
"""


def parse_abandon(base_url: str, body: str) -> Scenario:
    return parse_scenario(scenario_text(base_url, body), Path("abandon.yaml"))


def poll_used_device_code(h: Harness, journey: str = "cli") -> Any:
    """Sign in once by device code (the journey's first step is device_login), then poll
    again with the same device code; the StepFailed that poll raised (None if it did not).
    The provider must refuse a device code that already bought its token."""
    from authsurge.journeys import StepFailed, person
    from authsurge.journeys.device import DeviceLogin, Person

    step = h.journeys[journey].steps[0]
    assert isinstance(step, DeviceLogin)
    grants: list[Any] = []
    authorize = step.authorize
    step.authorize = lambda state: grants.append(authorize(state)) or grants[-1]  # type: ignore[method-assign]
    result = h.run(journey)
    assert result.ok, result
    with person(context(h.recorded, h.scenario.target.base_url, journey), None) as state:
        try:
            step.poll(state, grants[0], Person())
        except StepFailed as failed:
            return failed
    return None
