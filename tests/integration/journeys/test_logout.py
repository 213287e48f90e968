"""Form logout (POST with CSRF, or GET) and OIDC RP-initiated logout."""

from __future__ import annotations

from authsurge.journeys import FormLogin, OidcLogin, OidcLogout, Provider, person
from authsurge.journeys.credentials import Account
from authsurge.journeys.logout import FormLogout
from authsurge.rundir import records as record
from authsurge.scenario import ApiSettings
from authsurge.secret import Secret
from tests.support.journeys import context, dot_oidc, harness, scenario

SESSION_API = {"auth": "session", "endpoints": [{"path": "/api/me", "expect_status": [401]}]}


def test_form_logout_ends_the_session(target, recorded):
    # After logout the API answers 401 to the same browser (expected here).
    h = harness(recorded, scenario(target.base_url, {"w": ["form_login", "form_logout", "api"]},
                                   {"api": SESSION_API}))
    assert h.run("w").ok
    assert recorded.rows()[-2:] == [("logout", "POST", 200, "ok"), ("api.call", "GET", 401, "ok")]


def test_logout_csrf_token_from_a_page_form_and_a_header(target, recorded):
    flows = {"form_logout": {"csrf_cookie": None, "csrf_page": "/accounts/profile/",
                             "csrf_header": "X-CSRFToken"}}
    h = harness(recorded, scenario(target.base_url, {"w": ["form_login", "form_logout"]}, flows))
    assert h.run("w").ok
    assert recorded.rows()[-2:] == [("logout.form", "GET", 200, "ok"), ("logout", "POST", 200, "ok")]


def test_logout_without_a_csrf_token_is_a_403(target, recorded):
    flows = {"form_logout": {"csrf_cookie": None}}
    h = harness(recorded, scenario(target.base_url, {"w": ["form_login", "form_logout"]}, flows))
    result = h.run("w")
    assert (result.outcome, result.step) == (record.HTTP_4XX, "logout")
    assert result.reason == "403 on POST /accounts/logout/ (no CSRF token: set csrf_cookie or csrf_page)"


def test_get_logout_where_the_site_wants_post_is_reported_as_such(target, recorded):
    flows = {"form_logout": {"method": "GET"}}
    h = harness(recorded, scenario(target.base_url, {"w": ["form_login", "form_logout"]}, flows))
    result = h.run("w")
    assert (result.outcome, result.step, result.reason) == (
        record.HTTP_4XX, "logout", "405 on GET /accounts/logout/")


def test_rp_initiated_logout_with_id_token_hint_redirects_back(target, recorded):
    flows = {"oidc": dot_oidc(target.base_url), "api": SESSION_API}
    h = harness(recorded, scenario(target.base_url, {"s": ["oidc_login", "oidc_logout", "api"]}, flows))
    assert h.run("s").ok
    # DOT logs out at once (valid id_token_hint) and redirects to post_logout_redirect_uri,
    # which is never requested; the provider session is gone.
    assert recorded.rows()[-2:] == [("oidc.logout", "GET", 302, "ok"), ("api.call", "GET", 401, "ok")]


def test_rp_initiated_logout_submits_the_confirmation_form(target, target_env, recorded):
    s = scenario(target.base_url, {"s": ["oidc_login"]}, {"oidc": dot_oidc(target.base_url)})
    provider = Provider(s.flows.oidc)
    account = Account("user0021", Secret(target_env.password, "test"))
    with person(context(recorded, target.base_url, account=account)) as state:
        OidcLogin(provider)(state)
        state.id_token = None  # without a hint DOT must ask the person
        OidcLogout(provider)(state)
        from authsurge.journeys import ApiCalls

        ApiCalls(ApiSettings.model_validate(SESSION_API))(state)
    assert recorded.rows()[-3:] == [
        ("oidc.logout", "GET", 200, "ok"),  # DOT's "Are you sure?" form
        ("oidc.logout", "POST", 302, "ok"),  # allow=Logout, back to post_logout_redirect_uri
        ("api.call", "GET", 401, "ok"),
    ]


def test_logout_share_zero_skips_logout_steps(target, recorded):
    s = scenario(target.base_url, {"w": ["form_login", "form_logout"]})
    s.journeys["w"].logout_share = 0.0
    h = harness(recorded, s)
    assert h.run("w").ok
    assert "logout" not in recorded.steps()


def test_steps_compose_by_hand_in_one_browser(target, target_env, recorded):
    # What a locustfile can do: run step groups against one person's state.
    account = Account("user0022", Secret(target_env.password, "test"))
    with person(context(recorded, target.base_url, account=account)) as state:
        FormLogin()(state)
        assert "sessionid" in state.http.jar.names()
        FormLogout()(state)
        assert "sessionid" not in state.http.jar.names()
