"""OIDC authorization code + PKCE against the embedded target (django-oauth-toolkit)."""

from __future__ import annotations

import pytest

from authsurge.journeys import OidcLogin, Provider, StepFailed, exchange_code, person
from authsurge.journeys.credentials import Account
from authsurge.rundir import records as record
from authsurge.secret import Secret
from tests.support.journeys import context, dot_oidc, harness, scenario

LOGIN = {"sso": ["oidc_login"]}
NO_CONSENT = [
    ("oidc.discovery", "GET", 200, "ok"),
    ("oidc.authorize", "GET", 302, "ok"),  # anonymous: to the login page
    ("oidc.login_form", "GET", 200, "ok"),
    ("oidc.login_submit", "POST", 302, "ok"),  # back to authorize
    ("oidc.authorize", "GET", 302, "ok"),  # to redirect_uri with the code
    ("oidc.token", "POST", 200, "ok"),
]


def test_public_client_without_consent_logs_in_with_pkce(target, recorded):
    h = harness(recorded, scenario(target.base_url, LOGIN, {"oidc": dot_oidc(target.base_url)}))
    result = h.run("sso")
    assert result.ok, result
    assert recorded.rows() == NO_CONSENT


def test_consent_page_is_submitted_when_it_appears(target, recorded):
    flows = {"oidc": dot_oidc(target.base_url, "surge-consent")}
    h = harness(recorded, scenario(target.base_url, LOGIN, flows))
    result = h.run("sso")
    assert result.ok, result
    assert recorded.rows()[4:] == [
        ("oidc.authorize", "GET", 200, "ok"),  # DOT's consent page
        ("oidc.consent", "POST", 302, "ok"),  # allow=Authorize, to redirect_uri
        ("oidc.token", "POST", 200, "ok"),
    ]


def test_consent_never_fails_when_a_consent_page_appears(target, recorded):
    flows = {"oidc": dot_oidc(target.base_url, "surge-consent", consent="never")}
    h = harness(recorded, scenario(target.base_url, LOGIN, flows))
    result = h.run("sso")
    assert (result.outcome, result.step) == (record.UNEXPECTED_PAGE, "oidc.authorize")
    assert result.reason == "consent page on /o/authorize/, but flows.oidc.consent is never"


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_confidential_client_authenticates_at_the_token_endpoint(target, recorded, method):
    oidc = dot_oidc(target.base_url, "surge-confidential")
    oidc["client"]["auth_method"] = method
    h = harness(recorded, scenario(target.base_url, LOGIN, {"oidc": oidc}))
    result = h.run("sso")
    assert result.ok, result
    assert recorded.rows() == NO_CONSENT


def test_wrong_client_secret_is_rejected_at_the_token_step(target, target_env, recorded):
    h = harness(recorded, scenario(target.base_url, LOGIN, {"oidc": dot_oidc(target.base_url, "surge-confidential")}),
                environ={"AUTHSURGE_PASSWORD": target_env.password, "AUTHSURGE_CLIENT_SECRET": "wrong"})
    result = h.run("sso")
    assert (result.outcome, result.step) == (record.REJECTED, "oidc.token")
    assert result.reason == "401 on POST /o/token/: invalid_client"


def test_wrong_password_is_rejected_at_login_submit(target, recorded):
    h = harness(recorded, scenario(target.base_url, LOGIN, {"oidc": dot_oidc(target.base_url)}),
                environ={"AUTHSURGE_PASSWORD": "not-the-password"})
    result = h.run("sso")
    assert (result.outcome, result.step) == (record.REJECTED, "oidc.login_submit")
    assert result.reason == "form re-shown: wrong credentials?"
    assert recorded.rows()[-1] == ("oidc.login_submit", "POST", 200, record.REJECTED)


def test_replayed_code_is_attributed_to_token_step(target, target_env, recorded):
    s = scenario(target.base_url, LOGIN, {"oidc": dot_oidc(target.base_url)})
    provider = Provider(s.flows.oidc)
    account = Account("user0007", Secret(target_env.password, "test"))
    with person(context(recorded, target.base_url, account=account)) as state:
        request, code = OidcLogin(provider).authorize(state)
        assert exchange_code(state, provider, code, request.verifier, request.nonce)["access_token"]
        with pytest.raises(StepFailed) as replay:
            exchange_code(state, provider, code, request.verifier, request.nonce)
    failed = replay.value
    assert (failed.step, failed.outcome) == ("oidc.token", record.REJECTED)
    assert failed.reason == "400 on POST /o/token/: invalid_grant"
    assert [r[0] for r in recorded.rows()[-2:]] == ["oidc.token", "oidc.token"]


def test_a_wrong_code_verifier_is_invalid_grant(target, target_env, recorded):
    s = scenario(target.base_url, LOGIN, {"oidc": dot_oidc(target.base_url)})
    provider = Provider(s.flows.oidc)
    account = Account("user0008", Secret(target_env.password, "test"))
    with person(context(recorded, target.base_url, account=account)) as state:
        _, code = OidcLogin(provider).authorize(state)
        with pytest.raises(StepFailed) as failed:
            exchange_code(state, provider, code, "a" * 43)
    assert failed.value.reason == "400 on POST /o/token/: invalid_grant"


def test_discovery_is_fetched_once_per_journey(target, recorded):
    h = harness(recorded, scenario(target.base_url, LOGIN, {"oidc": dot_oidc(target.base_url)}))
    for _ in range(3):
        assert h.run("sso").ok
    assert recorded.steps().count("oidc.discovery") == 1
    assert recorded.steps().count("oidc.token") == 3


def test_a_missing_discovery_document_fails_at_discovery(target, recorded):
    flows = {"oidc": dot_oidc(target.base_url, discovery_url="/o/no-such-discovery")}
    h = harness(recorded, scenario(target.base_url, LOGIN, flows))
    result = h.run("sso")
    assert (result.outcome, result.step) == (record.HTTP_4XX, "oidc.discovery")
    assert result.reason == "404 on GET /o/no-such-discovery"


def test_hosts_outside_allowed_hosts_are_never_contacted(target, recorded):
    # The (overridden) discovery sends the browser to localhost; only 127.0.0.1 is allowed.
    elsewhere = target.base_url.replace("127.0.0.1", "localhost") + "/o/authorize/"
    flows = {"oidc": dot_oidc(target.base_url, endpoints={"authorization_endpoint": elsewhere})}
    s = scenario(target.base_url, LOGIN, flows, target={"allowed_hosts": ["127.0.0.1"]})
    h = harness(recorded, s)
    result = h.run("sso")
    assert (result.outcome, result.step) == (record.UNEXPECTED_PAGE, "oidc.authorize")
    assert result.reason == "refused to send GET to http://localhost: not in target.allowed_hosts"
    assert recorded.rows()[-1] == ("oidc.authorize", "GET", 0, record.UNEXPECTED_PAGE)


def test_missing_id_token_fails_when_one_is_expected(target, recorded):
    # Without the openid scope DOT answers OAuth 2 only: no id_token.
    flows = {"oidc": dot_oidc(target.base_url, scope="read")}
    h = harness(recorded, scenario(target.base_url, LOGIN, flows))
    result = h.run("sso")
    assert (result.outcome, result.step) == (record.INVALID_RESPONSE, "oidc.token")
    assert result.reason == "no id_token in the token response"


def test_plain_oauth_login_passes_when_no_id_token_is_expected(target, recorded):
    flows = {"oidc": dot_oidc(target.base_url, scope="read", expect_id_token=False)}
    h = harness(recorded, scenario(target.base_url, LOGIN, flows))
    assert h.run("sso").ok
