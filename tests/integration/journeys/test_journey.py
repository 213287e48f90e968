"""Journeys as the runner uses them: concurrent runs, distinct people, and the Locust
user for people's own locustfiles."""

from __future__ import annotations

from gevent.pool import Group

from authsurge.journeys import JourneyUser
from tests.support.journeys import dot_oidc, harness, scenario


def test_concurrent_journeys_are_separate_people(target, recorded):
    s = scenario(target.base_url, {"web": ["form_login", "api", "form_logout"],
                                   "sso": ["oidc_login", "userinfo"]},
                 {"oidc": dot_oidc(target.base_url)})
    h = harness(recorded, s)
    group = Group()
    results = [group.spawn(h.run, name) for name in ["web", "sso"] * 3]
    assert group.join(timeout=60)
    assert all(g.value.ok for g in results), [g.value for g in results]
    by_journey: dict[str, list[str]] = {}
    for event in recorded.events:
        by_journey.setdefault(event["context"]["journey_id"], []).append(event["name"])
    assert len(by_journey) == 6  # every request belongs to exactly one attempt
    # every person logged in with a password (no SSO shortcut through a shared jar)
    logins = [steps for steps in by_journey.values() if "login.submit" in steps or "oidc.login_submit" in steps]
    assert len(logins) == 6
    assert h.accounts.in_use == 0


def test_journey_user_runs_a_scenario_journey_in_a_locust_environment(target, recorded):
    s = scenario(target.base_url, {"web": ["form_login", "api"]})

    class WebUser(JourneyUser):
        scenario = s
        journey = "web"
        report_journeys = True

    user = WebUser(recorded.env)
    user.run_journey()
    assert recorded.steps() == ["login.form", "login.submit", "api.call", "web"]
    assert recorded.events[-1]["request_type"] == "JOURNEY" and recorded.events[-1]["exception"] is None


def test_journey_user_composes_step_groups_in_the_locustfile(target, recorded):
    s = scenario(target.base_url, {"web": ["form_login"]}, {"oidc": dot_oidc(target.base_url)})

    class SsoUser(JourneyUser):
        scenario = s
        journey = ["oidc_login", "api", "oidc_logout"]

    seen = []
    SsoUser.on_journey = lambda self, result, ctx: seen.append(result)  # type: ignore[method-assign]
    user = SsoUser(recorded.env)
    user.run_journey()
    assert seen and seen[0].ok, seen
    assert recorded.steps()[-2:] == ["api.call", "oidc.logout"]
