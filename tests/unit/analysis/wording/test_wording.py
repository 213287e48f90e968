"""Golden texts: the words each finding is rendered in (terminal and HTML headline, the HTML
tiles, the leadership summary). The findings are written out here, so a change of wording
shows as a diff of these strings, never as a change of what the analysis decided."""

from __future__ import annotations

from authsurge.analysis.wording import headline, sentences, short_story, tiles

TIE = [
    {"kind": "fail_together", "steps": ["login.form", "login.submit", "api.call"],
     "span": [39.0, 42.0], "unit": "journeys/s"},
    {"kind": "cause", "name": "login.submit", "cause_kind": "step", "steps": ["login.submit"],
     "relation": "tie", "collateral": ["login.form", "api.call"], "resource": "target CPU",
     "share": 0.94, "cost_per_request": 31.2, "cost_unit": "CPU-ms per request",
     "per_journey": None, "inseparable": False, "apportioned_in": None, "evidence": ""},
    {"kind": "collapse", "who": "journey web_login", "at_arrivals": 103.0, "at_offered": None,
     "peak_goodput": 12.4, "lowest_goodput": 2.33, "failures": {"timeout": 210},
     "seconds": 19.0, "share": 0.5},
    {"kind": "surge", "status": "fails", "limiting_step": "login.submit", "multiple_needed": 3.1,
     "headroom": 0.32, "peak_demand": 91.2, "capacity": 29.3, "unit": "req/s",
     "capacity_is_lower_bound": False, "peak_arrivals": 182.0, "demand_basis": "schedule",
     "text": "the surge peak needs 3.1x today's login.submit capacity", "say_text": True},
]

BROKEN_FLOW = [
    {"kind": "journeys_failed", "journey": "app", "share": 1.0, "failed": 7, "attempts": 7,
     "at": "over a run too short for load levels", "step": "oidc.authorize",
     "reason": "no login form with a password input on GET /login.html", "advice": "ADVICE"},
    {"kind": "nothing_judged", "text": "too few requests at each load level to judge any step"},
    {"kind": "surge", "status": "unknown", "limiting_step": None, "multiple_needed": None,
     "headroom": None, "peak_demand": None, "capacity": None, "unit": "req/s",
     "capacity_is_lower_bound": False, "peak_arrivals": None, "demand_basis": "observed",
     "text": "no step was judged", "say_text": False},
]


def test_a_tie_with_its_cause_collapse_and_surge_in_one_headline() -> None:
    assert headline(TIE) == (
        "login.form, login.submit and api.call fail together between 39.0 and 42.0 journeys/s "
        "(their knees cannot be ordered); the cause is login.submit (31.2 CPU-ms per request, "
        "94% of the target CPU used by requests at the knee), login.form, api.call queue "
        "behind it; goodput collapsed: journey web_login fell below 50% of its peak of "
        "12.4/s at 103 journeys/s, down to 2.33/s (210 timeout), 19 s in collapse; the surge "
        "peak needs 3.1x today's login.submit capacity."
    )


def test_a_tie_in_tiles_and_plain_sentences() -> None:
    assert [(t["k"], t["v"]) for t in tiles(TIE)] == [
        ("fail together", "login.form, login.submit, api.call"),
        ("cause", "login.submit"),
        ("collapse", "2.33/s"),
        ("surge needs", "3.1x capacity"),
        ("surge peak", "182 journeys/s"),
    ]
    assert sentences(TIE)[1] == (
        "Several steps break together (login.form, login.submit, api.call), between about "
        "39.0 and 42.0 people starting to sign in per second; the test cannot say which of "
        "them goes first. The cause is login.submit (submitting the sign-in form, where the "
        "password is checked): it used 94% of the server's processor "
        "time spent on requests, and the others wait in line behind it. Past that, the "
        "service collapsed: successful requests fell below 50% of their peak of 12.4 per "
        "second, down to 2.33, for 19 seconds, as people's requests timed out while they "
        "waited."
    )


def test_a_broken_flow_comes_first_with_its_step_share_reason_and_advice() -> None:
    assert headline(BROKEN_FLOW) == (
        "journey app failed outright: 7 of 7 attempts failed (100.0%, over a run too short "
        "for load levels) at oidc.authorize: no login form with a password input on GET "
        "/login.html; ADVICE; too few requests at each load level to judge any step."
    )
    assert tiles(BROKEN_FLOW)[0] == {
        "k": "journeys failed",
        "v": "100.0% of app",
        "n": "at oidc.authorize: no login form with a password input on GET /login.html",
    }
    assert sentences(BROKEN_FLOW)[0] == (
        "Sign-in did not work in this test: 7 of 7 attempts of app failed at starting a "
        "single sign-on request (oidc.authorize), over a run too short for load levels (\"no "
        "login form with a password input on GET /login.html\"). Until that is fixed, the "
        "figures below say nothing about capacity: ADVICE."
    )


def test_the_runs_listing_names_the_lead_in_a_few_words() -> None:
    assert short_story(TIE) == (
        "login.form + login.submit + api.call together (between 39.0 and 42.0 journeys/s)"
    )
    assert short_story(BROKEN_FLOW) == "FAILED OUTRIGHT: app (100.0% at oidc.authorize)"


def test_a_journey_cause_of_the_first_step_is_named_once() -> None:
    first = {"kind": "saturates_first", "step": "login.submit", "offered": 30.0, "arrivals": 30.0,
             "capacity": 28.0, "reason": "goodput < 90% of offered", "p95_below": 120.0,
             "bottleneck": {"kind": "unknown", "text": "", "target_cpu_percent": None,
                            "target_cpu_count": None, "rss_growth": None}}
    cause = {**TIE[1], "name": "journey web_login", "cause_kind": "journey",
             "steps": ["login.form", "login.submit"], "relation": "contains_first",
             "collateral": [], "per_journey": {"journey": "web_login", "cost": 28.6},
             "inseparable": True, "apportioned_in": None}
    text = headline([first, cause])
    assert "the cause is its journey, web_login (28.6 CPU-ms per journey, 94% of the" in text
    assert "journey journey" not in text


def test_a_client_bound_first_knee_is_a_lower_bound_in_plain_words() -> None:
    client = {"kind": "client_first", "step": "login.submit", "offered": 40.0, "arrivals": 40.0,
              "capacity": 35.0, "reason": "the client saturated first; add workers",
              "bound_s": 12.0, "share_of_run": 0.1}
    assert sentences([client])[0].startswith(
        "Capacity: at least 35.0 successful login.submit requests per second; beyond that the "
        "test's own load generator was the limit")


POPULATION = {"kind": "population", "size": 200, "signed_in_at_start": 199, "joined": 40,
              "lowest_signed_in": 199, "highest_signed_in": 239,
              "api_steps": ["population:api.call"], "api_requests": 21907,
              "api_error_rate": 0.001, "api_p95": 12.0, "sign_in_step": "login.submit",
              "sign_in_error_rate": 0.62, "sign_in_p95": 4100.0, "refreshes": 1342,
              "relogins": 3, "gave_up": 1, "contrast": None}


def test_the_population_is_said_beside_the_surge_in_each_register() -> None:
    from authsurge.analysis.wording.technical import population_line

    assert population_line(POPULATION) == (
        "Signed-in population: 200 before the surge (199 signed in by the warm-up's end) + 40 "
        "joined from the surge's sign-ins, 199 to 239 signed in at a time; their API "
        "(population:api.call) 21,907 requests, 0.1% errors, p95 12 ms, while the surge's "
        "login.submit had 62.0% errors, p95 4,100 ms; 1,342 token refreshes, 3 re-logins, 1 gave up"
    )
    summary = sentences(TIE + [POPULATION])
    assert (
        "Of the API calls of the people who were already signed in (200, and 40 more who signed "
        "in during the surge), 0.1% failed and 95% took at most 12 ms, while 62.0% failed for new "
        "people at the step of submitting the sign-in form, where the password is checked "
        "(login.submit)." in summary
    )
    assert {"k": "signed-in API errors", "v": "0.1%",
            "n": "of people already signed in; the surge's login.submit: 62.0%"} in tiles([POPULATION])


CONTRAST = {"over": "peak", "from_s": 60.0, "to_s": 120.0, "sign_in_error_rate": 0.33,
            "sign_in_p95": 2300.0, "api_error_rate": 0.002, "api_p95": 40.0, "error_limit": 0.01,
            "p95_limit_ms": 1000.0, "sign_in_held": False, "api_stayed_up": True}


LEAD = [{"kind": "no_requests"}]  # every story has a lead; this one adds one sentence


def with_contrast(**changed: object) -> list[dict]:
    return [{**POPULATION, "contrast": {**CONTRAST, **changed}}]


def test_the_api_of_signed_in_people_stayed_up_while_sign_in_failed_in_every_register() -> None:
    findings = with_contrast()
    assert headline(findings) == (
        "sign-in failed at the peak (33.0% errors, p95 2,300 ms) while the API of signed-in "
        "people stayed up (0.2% errors, p95 40 ms)."
    )
    assert sentences(LEAD + findings)[1] == (
        "Sign-in failed at the surge's peak (33.0% of sign-in requests failed, 95% within "
        "2,300 ms) while the API of the people already signed in stayed up (0.2% of its requests "
        "failed, 95% within 40 ms); staying up means fewer than 1.0% of requests failing and 95% "
        "answered within 1,000 ms."
    )
    assert {"k": "signed-in API", "v": "stayed up",
            "n": "at the peak: 0.2% errors, p95 40 ms; sign-in failed (33.0% errors)"} in tiles(findings)


def test_the_api_of_signed_in_people_failing_with_sign_in_is_said_as_such() -> None:
    findings = with_contrast(api_error_rate=0.098, api_p95=10_000.0, api_stayed_up=False)
    assert headline(findings) == (
        "sign-in failed at the peak (33.0% errors, p95 2,300 ms) and the API of signed-in "
        "people failed with it (9.8% errors, p95 10,000 ms)."
    )
    assert sentences(LEAD + findings)[1].startswith(
        "Sign-in failed at the surge's peak (33.0% of sign-in requests failed, 95% within "
        "2,300 ms) and the API of the people already signed in failed with it (9.8% of its "
        "requests failed, 95% within 10,000 ms)")
    held = with_contrast(sign_in_error_rate=0.001, sign_in_p95=300.0, sign_in_held=True)
    assert headline(held).startswith("sign-in held at the peak (0.1% errors, p95 300 ms) and the "
                                     "API of signed-in people stayed up")
    alone = with_contrast(api_stayed_up=False, sign_in_held=True, over="run")
    assert "sign-in held over the run (33.0% errors, p95 2,300 ms) but the API of signed-in " \
           "people failed (0.2% errors, p95 40 ms)" in headline(alone)
    assert headline(with_contrast(api_stayed_up=None)) == "."  # nothing judged, nothing said


RECOVERED = {"kind": "recovery", "capacity": 20.0, "capacity_source": "calibration",
             "fell_below_at_s": 120.0, "recovered_at_s": 132.0, "recovery_s": 12.0,
             "recovered": True, "metastable": False, "after_fall_s": 180.0,
             "pre_surge_p95": 250.0, "retry_share": 0.2, "relogins": None, "reason": None}
METASTABLE = {**RECOVERED, "recovered_at_s": None, "recovery_s": None, "recovered": False,
              "metastable": True, "retry_share": 0.64, "relogins": 37, "capacity_source": "knee"}


def test_a_recovery_is_said_with_its_seconds_and_capacity_in_every_register() -> None:
    assert headline([RECOVERED]) == (
        "sign-in recovered 12 s after the surge fell below capacity (20.0 sign-in journeys/s, "
        "from the calibration)."
    )
    assert sentences(LEAD + [RECOVERED])[1:] == [
        "After the surge's planned sign-ins fell back below what this deployment handles (about "
        "20.0 people starting to sign in per second, as measured before the test), sign-in "
        "recovered in 12 seconds: successful sign-ins kept up with attempts again and took at "
        "most twice as long as before the surge."
    ]
    assert tiles([RECOVERED]) == [{"k": "sign-in recovered", "v": "12 s",
                                   "n": "after the load fell below capacity (20.0 journeys/s)"}]


def test_a_metastable_run_is_said_with_the_retries_share_and_relogins() -> None:
    assert headline([METASTABLE]) == (
        "sign-in had not recovered by the end of the run, 180 s after the load fell below "
        "capacity: metastable (retries made 64.0% of the load, 37 re-logins of signed-in people)."
    )
    assert sentences(LEAD + [METASTABLE])[1:] == [
        "After the surge's planned sign-ins fell back below what this deployment handles (about "
        "20.0 people starting to sign in per second, the most it handled before its first step "
        "stopped keeping up), sign-in still had not recovered when the test ended 180 seconds "
        "later: it was stuck in overload (metastable), kept down by retries, which made 64.0% "
        "of the sign-in attempts after the fall, and by 37 re-logins of people who had been "
        "signed in."
    ]
    undetermined = {**METASTABLE, "metastable": None, "recovered": None,
                    "reason": "no pre-surge p95 to recover to"}
    assert headline([undetermined]) == (
        "sign-in's recovery after the surge was not judged: no pre-surge p95 to recover to."
    )
