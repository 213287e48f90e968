"""API calls with the session cookie or the bearer token; weighted endpoints."""

from __future__ import annotations

import random
from collections import Counter

from authsurge.journeys import ApiCalls, person
from authsurge.rundir import records as record
from authsurge.scenario import ApiSettings
from tests.support.journeys import context, dot_oidc, harness, scenario


def test_session_cookie_after_form_login(target, recorded):
    h = harness(recorded, scenario(target.base_url, {"w": ["form_login", "api"]},
                                   {"api": {"auth": "session", "calls": 2}}))
    assert h.run("w").ok
    assert recorded.rows()[-2:] == [("api.call", "GET", 200, "ok")] * 2


def test_bearer_token_after_oidc_login(target, recorded):
    flows = {"oidc": dot_oidc(target.base_url), "api": {"auth": "bearer"}}
    h = harness(recorded, scenario(target.base_url, {"s": ["oidc_login", "api"]}, flows))
    assert h.run("s").ok


def test_bearer_without_a_token_fails_before_sending(target, recorded):
    h = harness(recorded, scenario(target.base_url, {"a": ["api"]}, {"api": {"auth": "bearer"}}))
    result = h.run("a")
    assert (result.outcome, result.step) == (record.INVALID_RESPONSE, "api.call")
    assert result.reason == "no access token held (flows.api.auth is bearer)"
    assert recorded.events == []


def test_expected_statuses_and_endpoint_names_are_per_endpoint(target, recorded):
    api = {"endpoints": [{"path": "/api/me", "expect_status": [401], "name": "api.anonymous"}],
           "calls": 1}
    h = harness(recorded, scenario(target.base_url, {"a": ["api"]}, {"api": api}))
    assert h.run("a").ok
    assert recorded.rows() == [("api.anonymous", "GET", 401, "ok")]


def test_an_unexpected_status_fails_with_the_status_and_the_error(target, recorded):
    h = harness(recorded, scenario(target.base_url, {"a": ["api"]}))
    result = h.run("a")
    assert (result.outcome, result.step) == (record.HTTP_4XX, "api.call")
    assert result.reason == "401 on GET /api/me (unauthenticated)"


def test_endpoints_are_drawn_by_weight(target, recorded):
    settings = ApiSettings.model_validate({"auth": "session", "calls": 40, "endpoints": [
        {"path": "/api/me", "weight": 3, "expect_status": [401], "name": "api.heavy"},
        {"path": "/healthz", "weight": 1, "name": "api.light"},
    ]})
    step = ApiCalls(settings, random.Random(7))
    with person(context(recorded, target.base_url)) as state:
        step(state)
    counts = Counter(recorded.steps())
    assert counts["api.heavy"] + counts["api.light"] == 40
    assert counts["api.heavy"] > counts["api.light"] > 0
