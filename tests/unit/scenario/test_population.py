"""population: read from the scenario, and refused when it could not work."""

from __future__ import annotations

from pathlib import Path

import pytest

from authsurge.errors import ScenarioError
from authsurge.scenario import parse_scenario

SCENARIO = """
name: t
credentials: {{count: {accounts}}}
journeys:
  web: {{steps: [form_login, api, form_logout]}}
  signed_in: {{steps: [{sign_in_steps}]}}
traffic: {{model: {model}, shape: {{kind: steady, rate: 1}}, mix: {{web: 1}}{closed}}}
population: {population}
"""


def scenario(population: str, accounts: int = 100, sign_in_steps: str = "form_login",
             model: str = "open"):  # noqa: ANN201
    closed = ", closed: {users: 2}" if model == "closed" else ""
    return parse_scenario(SCENARIO.format(population=population, accounts=accounts,
                                          sign_in_steps=sign_in_steps, model=model, closed=closed),
                          Path("s.yaml"))


def test_a_population_is_read_with_its_defaults_and_its_warm_up_time() -> None:
    p = scenario("{size: 50, sign_in: signed_in, warmup: {rate: 10, seconds: 10}}").population
    assert p is not None
    assert (p.size, p.sign_in, p.api_rate, p.on_401) == (50, "signed_in", 0.2, "relogin")
    assert p.session_lifetime_s is None and p.token_lifetime_s is None
    assert p.warmup_s == 5.0  # 50 people at 10/s


@pytest.mark.parametrize(("population", "says"), [
    ("{size: 101, sign_in: signed_in, warmup: {rate: 10, seconds: 10}}",
     "population.size 101 cannot sign in during the warm-up"),
    ("{size: 10, sign_in: nobody}", "names journey 'nobody', which is not in journeys"),
    ("{size: 10, sign_in: web}", "signs out again (form_logout)"),
    ("{size: 10, sign_in: signed_in, on_401: retry}", "on_401"),
    ("{size: 10, sign_in: signed_in, api_rate: 0}", "api_rate"),
])
def test_a_population_that_could_not_work_is_refused_with_the_reason(population: str, says: str) -> None:
    with pytest.raises(ScenarioError, match=says.replace("(", r"\(").replace(")", r"\)")):
        scenario(population)


def test_a_sign_in_journey_that_does_not_sign_in_is_refused() -> None:
    with pytest.raises(ScenarioError, match="does not sign in"):
        scenario("{size: 10, sign_in: signed_in}", sign_in_steps="api")


def test_the_population_must_leave_accounts_for_the_surge() -> None:
    with pytest.raises(ScenarioError, match="credentials.count \\(50\\) must leave some"):
        scenario("{size: 50, sign_in: signed_in, warmup: {rate: 10, seconds: 10}}", accounts=50)


def test_the_population_needs_the_open_model() -> None:
    with pytest.raises(ScenarioError, match="needs the open model"):
        scenario("{size: 10, sign_in: signed_in}", model="closed")
