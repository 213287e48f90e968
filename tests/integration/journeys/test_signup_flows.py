"""The sign-up step groups (form_signup, email_verify, email_code_login) against the
embedded target with --signup (django-allauth), its mail going over SMTP to a real mail
sink on 127.0.0.1; the steps are named in the records like any other, and no link, code
or generated password appears in an event."""

from __future__ import annotations

import re

from authsurge.mail import MailSink, SinkBehaviour
from authsurge.rundir import records as record
from tests.support.journeys import harness, scenario

SIGNUP = {"new": ["form_signup", "email_verify", "form_login", "api"],
          "new_by_code": ["form_signup", "email_verify", "email_code_login", "api"]}


def flows(sink: MailSink, **mail: object) -> dict[str, object]:
    return {"mail": {"mailbox_url": sink.http_url, "wait_s": 5, **mail}}


def test_a_new_person_signs_up_verifies_by_link_and_signs_in_with_named_steps(
        signup_target, sink, recorded):
    h = harness(recorded, scenario(signup_target.base_url, SIGNUP, flows(sink)))
    result = h.run("new")
    assert result.ok, result
    assert recorded.rows() == [
        ("signup.form", "GET", 200, "ok"),
        ("signup.submit", "POST", 302, "ok"),
        ("signup.email", "MAIL", 0, "ok"),
        ("signup.confirm", "GET", 302, "ok"),
        ("login.form", "GET", 200, "ok"),
        ("login.submit", "POST", 302, "ok"),
        ("api.call", "GET", 200, "ok"),
    ]
    confirm = next(e for e in recorded.events if e["name"] == "signup.confirm")
    assert confirm["url"].endswith("/accounts/confirm-email/<redacted>")


def test_a_new_person_signs_in_by_the_e_mailed_code(signup_target, sink, recorded):
    h = harness(recorded, scenario(signup_target.base_url, SIGNUP, flows(sink)))
    result = h.run("new_by_code")
    assert result.ok, result
    steps = [row[0] for row in recorded.rows()]
    assert steps[4:] == ["otp.request", "otp.request", "otp.email", "otp.verify", "otp.verify",
                         "api.call"]


def test_a_wrong_code_is_rejected_at_otp_verify(signup_target, sink, recorded):
    # a pattern that finds the wrong thing in the mail: the target refuses it
    h = harness(recorded, scenario(signup_target.base_url, SIGNUP,
                                   flows(sink, code_pattern=r"\b[a-z]{6}\b")))
    result = h.run("new_by_code")
    assert (result.ok, result.outcome, result.step) == (False, record.REJECTED, "otp.verify")


def test_a_mail_that_never_comes_is_a_timeout_at_signup_email(target_factory, recorded):
    dropping = MailSink(SinkBehaviour(drop_share=1.0)).start()
    try:
        proc = target_factory(signup=True, smtp_port=dropping.smtp_port)
        h = harness(recorded, scenario(proc.base_url, SIGNUP, flows(dropping, wait_s=1)))
        result = h.run("new")
        assert (result.outcome, result.step) == (record.TIMEOUT, "signup.email")
        assert recorded.rows()[:2] == [("signup.form", "GET", 200, "ok"),
                                       ("signup.submit", "POST", 302, "ok")]  # the target's steps
    finally:
        dropping.stop()


def test_mail_delay_in_the_sink_is_signup_email_latency(target_factory, recorded):
    slow = MailSink(SinkBehaviour(delay_s=1.5)).start()
    try:
        proc = target_factory(signup=True, smtp_port=slow.smtp_port)
        h = harness(recorded, scenario(proc.base_url, SIGNUP, flows(slow)))
        assert h.run("new").ok
        waited = next(e for e in recorded.events if e["name"] == "signup.email")
        # from the target's answer (the mail was received just before it) to the mail in
        # the mailbox, found within one poll
        assert 1400 <= waited["response_time"] < 1500 + 250 + 1000
    finally:
        slow.stop()


def test_an_expired_code_is_rejected_at_otp_verify(target_factory, recorded):
    # codes good for 1 s, mail that takes 1.5 s to arrive: expired when entered
    slow = MailSink(SinkBehaviour(delay_s=1.5)).start()
    try:
        proc = target_factory(signup=True, smtp_port=slow.smtp_port, login_code_timeout_s=1)
        h = harness(recorded, scenario(proc.base_url, SIGNUP, flows(slow)))
        result = h.run("new_by_code")
        assert (result.outcome, result.step) == (record.REJECTED, "otp.verify")
    finally:
        slow.stop()


def test_no_link_code_or_generated_password_appears_in_any_event(signup_target, sink, recorded):
    h = harness(recorded, scenario(signup_target.base_url, SIGNUP, flows(sink)))
    assert h.run("new_by_code").ok
    shown = repr(recorded.events)
    assert "confirm-email/<redacted>" in shown
    assert not re.search(r"confirm-email/[^<]", shown), "a confirmation key leaked"
    assert not re.search(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b", shown), "a code leaked"
