"""Composing a journey: which journeys take an account from the pool."""

from __future__ import annotations

from authsurge.journeys.credentials import ScenarioSecrets
from authsurge.journeys.journey import compose
from authsurge.scenario import FlowSettings


def test_a_journey_that_signs_up_first_takes_no_account_from_the_pool():
    flows = FlowSettings.model_validate({"mail": {"mailbox_url": "http://127.0.0.1:9"}})
    new = compose("new", ["form_signup", "email_verify", "form_login"], flows, ScenarioSecrets())
    returning = compose("back", ["form_login", "api"], flows, ScenarioSecrets())
    assert (new.needs_account, returning.needs_account) == (False, True)
