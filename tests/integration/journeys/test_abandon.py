"""`journeys.<name>.abandon_after`: people who leave right after one request (e.g. open the
login page and go), so a mix can vary `login.form` independently of `login.submit`.
Here, against the embedded target; the names it accepts: tests/unit/journeys/test_abandon.py."""

from __future__ import annotations

from authsurge.rundir import records as record
from tests.support.journeys import ABANDON_MIXED as MIXED
from tests.support.journeys import harness
from tests.support.journeys import parse_abandon as parse


def test_people_who_abandon_after_the_login_page_make_one_request_and_succeed(target, recorded):
    h = harness(recorded, parse(target.base_url, MIXED))
    result = h.run("browse")
    assert (result.ok, result.outcome, result.step, result.reason) == (True, record.OK, None, "")
    assert recorded.rows() == [("login.form", "GET", 200, "ok")]
    assert "login.submit" not in recorded.steps()
    assert h.accounts is not None and h.accounts.in_use == 0
    # the full login journey of the same mix is untouched
    recorded.clear()
    assert h.run("web_login").ok
    assert recorded.steps() == ["login.form", "login.submit", "api.call", "logout"]


def test_abandoning_after_a_later_request_skips_the_rest_and_the_logout(target, recorded):
    body = MIXED.replace(
        "browse: {steps: [form_login], abandon_after: login.form}",
        "browse: {steps: [form_login, api, form_logout], abandon_after: login.submit}",
    )
    h = harness(recorded, parse(target.base_url, body))
    assert h.run("browse").ok
    assert recorded.rows() == [
        ("login.form", "GET", 200, "ok"),
        ("login.submit", "POST", 302, "ok"),
    ]


def test_a_failed_abandon_after_request_fails_the_journey_as_usual(target, recorded):
    body = MIXED + "flows:\n  form_login: {login_url: /no-such-page/}\n"
    h = harness(recorded, parse(target.base_url, body))
    result = h.run("browse")
    assert (result.ok, result.outcome, result.step) == (False, record.HTTP_4XX, "login.form")
    assert recorded.rows() == [("login.form", "GET", 404, record.HTTP_4XX)]
