"""Token operations against the embedded target: refresh rotation, client credentials,
introspection, revocation, userinfo."""

from __future__ import annotations

import pytest

from authsurge.errors import BadInput
from authsurge.journeys import OidcLogin, Provider, Refresh, StepFailed, person
from authsurge.journeys.credentials import Account
from authsurge.rundir import records as record
from authsurge.scenario import TokenSettings
from authsurge.secret import Secret
from tests.support.journeys import SERVICE_CLIENT, context, dot_oidc, harness, scenario


def test_refresh_rotation_keeps_the_newest_refresh_token(target, recorded):
    flows = {"oidc": dot_oidc(target.base_url), "tokens": {"refreshes": 3}}
    h = harness(recorded, scenario(target.base_url, {"r": ["oidc_login", "token_refresh", "userinfo"]}, flows))
    result = h.run("r")
    assert result.ok, result
    assert recorded.steps()[-4:] == ["token.refresh", "token.refresh", "token.refresh", "oidc.userinfo"]


def test_a_rotated_refresh_token_is_never_sent_again(target, target_env, recorded):
    s = scenario(target.base_url, {"r": ["oidc_login"]}, {"oidc": dot_oidc(target.base_url)})
    provider = Provider(s.flows.oidc)
    account = Account("user0011", Secret(target_env.password, "test"))
    with person(context(recorded, target.base_url, account=account)) as state:
        OidcLogin(provider)(state)
        first = state.refresh_token
        Refresh(provider, s.flows.oidc.client, None, TokenSettings(refreshes=1))(state)
        assert state.refresh_token and state.refresh_token != first  # rotated
        # What reuse would cost: the provider rejects the rotated token.
        state.refresh_token = first
        with pytest.raises(StepFailed) as reused:
            Refresh(provider, s.flows.oidc.client, None, TokenSettings(refreshes=1))(state)
        assert state.refresh_token is None  # dropped before sending, kept dropped
    assert (reused.value.step, reused.value.outcome) == ("token.refresh", record.REJECTED)
    assert reused.value.reason == "400 on POST /o/token/: invalid_grant"


def test_client_credentials_token_calls_the_api(target, recorded):
    flows = {"oidc": dot_oidc(target.base_url), "tokens": {"client_credentials": SERVICE_CLIENT,
                                                          "client_credentials_scope": "read"}}
    h = harness(recorded, scenario(target.base_url, {"svc": ["client_credentials", "api"]}, flows))
    result = h.run("svc")
    assert result.ok, result
    assert recorded.rows()[-2:] == [("token.client_credentials", "POST", 200, "ok"),
                                    ("api.call", "GET", 200, "ok")]


def test_client_credentials_without_discovery_uses_token_url(target, recorded):
    flows = {"tokens": {"client_credentials": SERVICE_CLIENT, "token_url": "/o/token/"}}
    h = harness(recorded, scenario(target.base_url, {"svc": ["client_credentials", "api"]}, flows))
    assert h.run("svc").ok
    assert "oidc.discovery" not in recorded.steps()


def test_introspection_reports_an_active_token(target, recorded):
    flows = {"oidc": dot_oidc(target.base_url), "tokens": {"introspection_client": SERVICE_CLIENT}}
    h = harness(recorded, scenario(target.base_url, {"i": ["oidc_login", "token_introspect"]}, flows))
    assert h.run("i").ok
    assert recorded.rows()[-1] == ("token.introspect", "POST", 200, "ok")


def test_a_revoked_token_fails_at_the_step_that_uses_it(target, recorded):
    flows = {"oidc": dot_oidc(target.base_url), "tokens": {"introspection_client": SERVICE_CLIENT}}
    journeys = {"u": ["oidc_login", "token_revoke", "userinfo"],
                "i": ["oidc_login", "token_revoke", "token_introspect"],
                "a": ["oidc_login", "token_revoke", "api"]}
    h = harness(recorded, scenario(target.base_url, journeys, flows))
    result = h.run("u")
    assert (result.outcome, result.step) == (record.HTTP_4XX, "oidc.userinfo")
    assert result.reason == "401 on GET /o/userinfo/ (invalid_token; refresh_token revoked earlier by token.revoke)"
    assert ("token.revoke", "POST", 200, "ok") in recorded.rows()
    result = h.run("i")
    assert (result.outcome, result.step) == (record.REJECTED, "token.introspect")
    assert result.reason == "token not active (refresh_token revoked earlier by token.revoke)"
    result = h.run("a")
    assert (result.outcome, result.step) == (record.HTTP_4XX, "api.call")
    assert result.reason == "401 on GET /api/me (invalid_token; refresh_token revoked earlier by token.revoke)"


def test_revoking_both_tokens_makes_two_requests(target, recorded):
    flows = {"oidc": dot_oidc(target.base_url), "tokens": {"revoke": "both"}}
    h = harness(recorded, scenario(target.base_url, {"r": ["oidc_login", "token_revoke"]}, flows))
    assert h.run("r").ok
    assert recorded.steps()[-2:] == ["token.revoke", "token.revoke"]


def test_a_revoked_refresh_token_cannot_refresh(target, recorded):
    flows = {"oidc": dot_oidc(target.base_url), "tokens": {"revoke": "refresh_token"}}
    h = harness(recorded, scenario(target.base_url, {"r": ["oidc_login", "token_revoke", "token_refresh"]}, flows))
    result = h.run("r")
    assert (result.outcome, result.step) == (record.REJECTED, "token.refresh")
    assert result.reason == "400 on POST /o/token/: invalid_grant (refresh_token revoked earlier by token.revoke)"


@pytest.mark.parametrize("steps, message", [
    (["token_refresh", "oidc_login"], "token_refresh needs oidc_login earlier in its steps"),
    (["api", "userinfo"], "userinfo needs oidc_login earlier in its steps"),
    (["token_revoke"], "token_revoke needs oidc_login or client_credentials earlier in its steps"),
])
def test_token_steps_need_a_token_from_an_earlier_step(target, recorded, steps, message):
    flows = {"oidc": dot_oidc(target.base_url)}
    with pytest.raises(BadInput, match=message):
        harness(recorded, scenario(target.base_url, {"bad": steps}, flows))
