"""The magic_link_login step group against the embedded target with --signup (its
/accounts/magic/ pages, django-sesame), mail going over SMTP to a real mail sink: named
steps in the records, and no sign-in token in any event."""

from __future__ import annotations

from authsurge.mail import MailSink
from authsurge.rundir import records as record
from tests.support.journeys import harness, scenario

MAGIC = {"magic": ["form_signup", "email_verify", "magic_link_login", "api"]}


def flows(sink: MailSink, **magic_link: object) -> dict[str, object]:
    # flows.magic_link's defaults fit the target: only the mailbox is named
    return {"mail": {"mailbox_url": sink.http_url, "wait_s": 5}, "magic_link": magic_link}


def test_a_new_person_signs_up_verifies_and_signs_in_by_the_e_mailed_link(
        signup_target, sink, recorded):
    h = harness(recorded, scenario(signup_target.base_url, MAGIC, flows(sink)))
    result = h.run("magic")
    assert result.ok, result
    assert recorded.rows() == [
        ("signup.form", "GET", 200, "ok"),
        ("signup.submit", "POST", 302, "ok"),
        ("signup.email", "MAIL", 0, "ok"),
        ("signup.confirm", "GET", 302, "ok"),
        ("magic.request", "GET", 200, "ok"),
        ("magic.request", "POST", 302, "ok"),
        ("magic.email", "MAIL", 0, "ok"),
        ("magic.follow", "GET", 302, "ok"),
        ("api.call", "GET", 200, "ok"),
    ]
    followed = next(e for e in recorded.events if e["name"] == "magic.follow")
    assert followed["url"].startswith(f"{signup_target.base_url}/accounts/magic/")
    assert "sesame=" not in repr(recorded.events), "a sign-in token leaked into an event"


def test_a_mail_without_a_matching_link_fails_at_magic_follow(signup_target, sink, recorded):
    h = harness(recorded, scenario(signup_target.base_url, MAGIC,
                                   flows(sink, link_pattern=r"/no-such-link/")))
    result = h.run("magic")
    assert (result.ok, result.outcome, result.step) == (False, record.INVALID_RESPONSE,
                                                        "magic.follow")
    assert "sesame=" not in repr(recorded.events)
