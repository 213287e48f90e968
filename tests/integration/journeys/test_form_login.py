"""Form login (Django's LoginView with CSRF) against the embedded target."""

from __future__ import annotations

import pytest

from authsurge.rundir import records as record
from authsurge.rundir.records import REQUEST_SCHEMA
from tests.support.journeys import harness, scenario

WEB = {"web": ["form_login", "api", "form_logout"]}


def test_form_login_then_api_then_logout_succeeds_with_named_steps(target, recorded):
    h = harness(recorded, scenario(target.base_url, WEB))
    result = h.run("web")
    assert result.ok, result
    assert recorded.rows() == [
        ("login.form", "GET", 200, "ok"),
        ("login.submit", "POST", 302, "ok"),
        ("api.call", "GET", 200, "ok"),
        ("logout", "POST", 200, "ok"),
    ]


def test_every_event_carries_exactly_the_record_columns(target, recorded):
    h = harness(recorded, scenario(target.base_url, WEB))
    h.run("web")
    expected = {"journey", "journey_id", "person_id", "attempt", "t_intended", "worker", "status",
                "outcome", "reason", "method", "cohort", "source"}
    assert expected <= set(REQUEST_SCHEMA.names)
    for event in recorded.events:
        assert set(event["context"]) == expected
        assert event["context"]["journey"] == "web" and event["context"]["worker"] == "test"
        assert event["context"]["cohort"] == "surge" and event["name"] == event["name"].split(":")[-1]
        assert event["response_time"] > 0 and event["start_time"] > 1e9
        assert event["exception"] is None and event["response"] is None
        assert "?" not in event["url"]  # queries may carry codes and tokens


def test_wrong_password_is_rejected_at_login_submit(target, recorded):
    s = scenario(target.base_url, WEB)
    h = harness(recorded, s, environ={"AUTHSURGE_PASSWORD": "not-the-password"})
    result = h.run("web")
    assert (result.ok, result.outcome, result.step) == (False, record.REJECTED, "login.submit")
    assert result.reason == "form re-shown: wrong credentials?"
    assert recorded.rows()[-1] == ("login.submit", "POST", 200, record.REJECTED)
    assert str(recorded.events[-1]["exception"]) == result.reason


def test_missing_csrf_token_is_a_403_at_login_submit(target, recorded):
    # Configuration only: an empty CSRF field replaces the page's token.
    flows = {"form_login": {"form": {"extra_fields": {"csrfmiddlewaretoken": ""}}}}
    h = harness(recorded, scenario(target.base_url, WEB, flows))
    result = h.run("web")
    assert (result.outcome, result.step) == (record.HTTP_4XX, "login.submit")
    assert result.reason == "403 on POST /accounts/login/"


def test_every_success_rule_must_hold(target, recorded):
    flows = {"form_login": {"success": {"status": [302], "redirect_matches": "^/accounts/profile/$",
                                        "cookie_set": "remember_me"}}}
    h = harness(recorded, scenario(target.base_url, WEB, flows))
    result = h.run("web")
    assert (result.outcome, result.step) == (record.UNEXPECTED_PAGE, "login.submit")
    assert result.reason == "302 on POST /accounts/login/: cookie remember_me not set"


def test_success_by_redirect_and_session_cookie(target, recorded):
    flows = {"form_login": {"success": {"redirect_matches": "/accounts/profile/", "cookie_set": "sessionid",
                                        "text_absent": "Please enter a correct"}}}
    h = harness(recorded, scenario(target.base_url, WEB, flows))
    assert h.run("web").ok


def test_a_page_without_a_login_form_is_an_unexpected_page(target, recorded):
    h = harness(recorded, scenario(target.base_url, WEB, {"form_login": {"login_url": "/"}}))
    result = h.run("web")
    assert (result.outcome, result.step) == (record.UNEXPECTED_PAGE, "login.form")
    assert result.reason == "no login form with a password input on GET /"


def test_a_selector_that_matches_nothing_names_itself(target, recorded):
    flows = {"form_login": {"form": {"selector": "form#sso"}}}
    h = harness(recorded, scenario(target.base_url, WEB, flows))
    assert h.run("web").reason == "no login form matching 'form#sso' on GET /accounts/login/"


def test_each_run_starts_with_an_empty_cookie_jar(target, recorded):
    # After a login in one run, the next run is a new person: no session cookie.
    h = harness(recorded, scenario(target.base_url, {"web": ["form_login"], "anon": ["api"]},
                                   {"api": {"auth": "session"}}))
    assert h.run("web").ok
    result = h.run("anon")
    assert (result.outcome, result.step) == (record.HTTP_4XX, "api.call")
    assert result.reason.startswith("401 on GET /api/me")


def test_refused_connection_is_attributed_to_the_first_step(recorded):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    h = harness(recorded, scenario(f"http://127.0.0.1:{port}", WEB),
                environ={"AUTHSURGE_PASSWORD": "x"})
    result = h.run("web")
    assert (result.outcome, result.step) == (record.CONNECTION, "login.form")
    assert result.reason == f"connection refused by 127.0.0.1:{port} on GET /accounts/login/"
    assert recorded.rows() == [("login.form", "GET", 0, record.CONNECTION)]


@pytest.mark.slow
def test_a_slow_target_is_a_timeout_at_the_step_that_waited(target_factory, recorded):
    slow = target_factory(delay_ms=1500)
    h = harness(recorded, scenario(slow.base_url, WEB, target={"timeout_s": 0.3}))
    result = h.run("web")
    assert (result.outcome, result.step) == (record.TIMEOUT, "login.form")
    assert result.reason == "timeout after 0.3 s on GET /accounts/login/"
    assert 250 < recorded.events[0]["response_time"] < 1000
