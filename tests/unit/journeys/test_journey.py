"""Composing a journey: which journeys take an account from the pool."""

from __future__ import annotations

import pytest

from authsurge.errors import BadInput
from authsurge.journeys.credentials import ScenarioSecrets
from authsurge.journeys.journey import compose
from authsurge.scenario import FlowSettings


def test_a_journey_that_signs_up_first_takes_no_account_from_the_pool():
    flows = FlowSettings.model_validate({"mail": {"mailbox_url": "http://127.0.0.1:9"}})
    new = compose("new", ["form_signup", "email_verify", "form_login"], flows, ScenarioSecrets())
    returning = compose("back", ["form_login", "api"], flows, ScenarioSecrets())
    assert (new.needs_account, returning.needs_account) == (False, True)


def test_a_verification_without_a_sign_up_before_it_is_refused_when_composed():
    flows = FlowSettings.model_validate({"mail": {"mailbox_url": "http://127.0.0.1:9"}})
    with pytest.raises(BadInput, match="email_verify needs form_signup"):
        compose("lost", ["email_verify"], flows, ScenarioSecrets())


def test_a_journey_that_signs_up_does_not_join_the_signed_in_population():
    flows = FlowSettings.model_validate({"mail": {"mailbox_url": "http://127.0.0.1:9"}})
    new = compose("new", ["form_signup", "email_verify", "form_login"], flows, ScenarioSecrets())
    assert not new.signs_in  # its identity is no account the population could sign in with
