"""Answers that are not what a step expects, during a window of the run: an HTML page with
200 where JSON is expected (token endpoint, API), bytes that are not HTTP, and a login page
that lost its password form. Injected by a proxy in front of the real embedded target."""

from __future__ import annotations

from tests.support.faults.checks import assert_outage_on_timeline, check_run
from tests.support.faults.proxy import MAINTENANCE_PAGE, NO_FORM_PAGE, NOT_HTTP
from tests.support.faults.scenarios import STEPS, RunWindow, run_faulty

WINDOW = (3.0, 6.0)  # s after the run's start: connections accepted then get the fault


def test_html_and_garbage_where_json_is_expected_are_invalid_responses(tmp_path, target, fault_proxy):
    token = fault_proxy("respond", upstream_port=target.port, response=MAINTENANCE_PAGE)
    api_html = fault_proxy("respond", upstream_port=target.port, response=MAINTENANCE_PAGE)
    api_raw = fault_proxy("respond", upstream_port=target.port, response=NOT_HTTP)
    window = RunWindow(tmp_path / "runs", (token, api_html, api_raw), WINDOW)
    result = run_faulty(
        tmp_path, target.base_url, journeys={"web": ["form_login", "api"], "app": ["oidc_login"]}, rate=6,
        token_endpoint=token.url + "/o/token/",
        api_endpoints=[{"path": api_html.url + "/api/me", "name": "api.call"},
                       {"path": api_raw.url + "/api/me", "name": "api.raw"}])
    # the two API endpoints are drawn by weight, so in a 3-s window one may get no call (CI saw 9 and 0)
    assert token.accepted["respond"] >= 5 and api_html.accepted["respond"] + api_raw.accepted["respond"] >= 3
    checked = check_run(result, {"web": ["login.form", "login.submit"], "app": STEPS["app"][:-1]})
    failed = checked.failed_requests
    assert set(failed["outcome"]) == {"invalid_response"}
    by_step = failed.groupby("step", observed=True)["reason"].agg(set).to_dict()
    expected = {"oidc.token": {"no JSON object from POST /o/token/"},
                "api.call": {"HTML page instead of JSON on GET /api/me"},
                "api.raw": {"malformed HTTP response on GET /api/me"}}
    assert "oidc.token" in by_step and len(by_step) >= 2
    assert all(by_step[step] == expected[step] for step in by_step)
    assert (failed[failed["step"] != "api.raw"]["status"] == 200).all()  # a 200 is not a success here
    assert len(failed) == sum(p.accepted["respond"] for p in (token, api_html, api_raw))
    assert_outage_on_timeline(checked, window.start, window.end, "oidc.token", "invalid_response")


def test_a_login_page_without_a_password_form_is_an_unexpected_page_on_login_form(tmp_path, target,
                                                                                 fault_proxy):
    proxy = fault_proxy("respond", upstream_port=target.port, response=NO_FORM_PAGE)
    window = RunWindow(tmp_path / "runs", [proxy], WINDOW)
    result = run_faulty(tmp_path, proxy.url, journeys={"web": ["form_login", "api"]}, rate=4)
    assert proxy.accepted["respond"] >= 8
    checked = check_run(result, STEPS)
    failed = checked.failed_requests
    assert set(failed["step"]) == {"login.form"} and set(failed["outcome"]) == {"unexpected_page"}
    assert set(failed["reason"]) == {"no login form with a password input on GET /accounts/login/"}
    assert (failed["status"] == 200).all()
    assert len(failed) == proxy.accepted["respond"]
    assert_outage_on_timeline(checked, window.start, window.end, "login.form", "unexpected_page")
    top = checked.analysis.steps["login.form"]["top_errors"]
    assert top[0]["reason"] == "no login form with a password input on GET /accounts/login/"


def test_journeys_that_fail_outright_lead_the_headline_with_step_reason_and_advice(tmp_path, target_env,
                                                                                  fault_proxy):
    """A sign-in page without a login form (e.g. a JavaScript app that signs in through a JSON
    API) for the whole run: too few requests to judge any step, so before findings the
    analysis said only "too few requests ... to judge any step" and "Verdict: unknown"."""
    from authsurge.analysis import analyze_run
    from authsurge.analysis.wording import tiles
    from authsurge.report.summary import summary_sentences

    page = fault_proxy("respond", response=NO_FORM_PAGE)  # no upstream: every answer lacks the form
    result = run_faulty(tmp_path, page.url, journeys={"web": ["form_login", "api"]}, rate=2,
                        duration_s=4)
    doc = analyze_run(result.run_dir).to_json()
    first = doc["findings"][0]
    assert first["kind"] == "journeys_failed" and first["share"] == 1.0 and first["attempts"] >= 6
    assert first["step"] == "login.form" and "JSON login step" in first["advice"]
    text = analyze_run(result.run_dir).summary_text()
    assert text.startswith(
        f"journey web failed outright: {first['failed']} of {first['attempts']} attempts failed "
        "(100.0%, already at the lowest load)")
    assert "at login.form: no login form with a password input on GET /accounts/login/" in text
    assert tiles(doc["findings"])[0]["k"] == "journeys failed"
    assert summary_sentences(doc)[0].startswith("Sign-in did not work in this test")
