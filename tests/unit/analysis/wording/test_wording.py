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
     "per_journey": None, "inseparable": False, "evidence": ""},
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
        "them goes first. The cause is login.submit: it used 94% of the server's processor "
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
             "inseparable": True}
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
              "relogins": 3, "gave_up": 1}


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
