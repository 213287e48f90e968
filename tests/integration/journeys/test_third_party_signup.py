"""Sign-up, its confirmation mail and sign-in by e-mail against Flask-Security-Too, which
nobody on this project wrote, with authsurge's own step groups and configuration only.

third_party/flask_security/app.py with FS_SMTP_PORT: /register (confirmable: the welcome
mail carries /confirm/<token>), /login by password, and unified sign-in on /us-signin by
a code e-mailed with a login link (/us-verify-link?id=...&code=...). Its mail goes over
SMTP to a real mail sink on 127.0.0.1; the venv is the one test_third_party.py installs.

Links, codes and passwords are secrets: no assertion message here shows one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from authsurge.journeys import JourneyResult, JourneyState, person
from authsurge.journeys.magic_link import MagicLinkLogin
from authsurge.journeys.mail_wait import shown_link_path
from authsurge.journeys.signup import EmailVerify, FormSignup
from authsurge.mail import Mail, MailboxClient, MailSink, SinkBehaviour, extract_link
from authsurge.rundir import records as record
from tests.integration.journeys.test_third_party import Server, running_flask_security
from tests.support.journeys import Recorded, context, harness, scenario

JOURNEYS = {
    "new": ["form_signup", "email_verify", "form_login", "api"],
    "unconfirmed": ["form_signup", "form_login"],
    "new_by_code": ["form_signup", "email_verify", "email_code_login", "api"],
    "new_by_link": ["form_signup", "email_verify", "magic_link_login", "api"],
}
# form_login needs a password source, although the sign-up makes each person's own
ENVIRON = {"AUTHSURGE_PASSWORD": "unused: form_signup generates the password"}
SIGNUP_ROWS = [
    ("signup.form", "GET", 200, "ok"),
    ("signup.submit", "POST", 302, "ok"),  # to / (no login before the address is confirmed)
    ("signup.email", "MAIL", 0, "ok"),  # "Welcome": the confirmation link
    ("signup.confirm", "GET", 302, "ok"),  # to /login, "Thank you. Your email has been confirmed."
]


@pytest.fixture(scope="module")
def fs_mail(sink: MailSink, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log_dir = tmp_path_factory.mktemp("flask-security-signup")
    with running_flask_security(log_dir, FS_SMTP_PORT=str(sink.smtp_port)) as server:
        yield server


def fs_flows(sink: MailSink, **mail: object) -> dict[str, Any]:
    """The configuration that fits Flask-Security's stock views."""
    return {
        "signup": {"url": "/register"},  # e-mail field: type=email; password and password_confirm
        "mail": {"mailbox_url": sink.http_url, "wait_s": 5, "poll_s": 0.05,
                 # the mail starts "Welcome <address>!": with the default pattern, a run
                 # token of six digits in the address would pass for the code
                 "code_pattern": r"(?<=code: )\d{6}\b",
                 # good, used and expired links are all 302s: to /login only when confirmed
                 "confirm_success": {"status": [302], "redirect_matches": "/login$"}, **mail},
        "form_login": {"login_url": "/login"},
        # one form for password and code: "Send Code" posts to /us-signin/send-code by its
        # formaction; the passcode input is type=password
        "email_code": {"url": "/us-signin", "email_field": "identity", "code_field": "passcode",
                       "request_fields": {"chosen_method": "email"},
                       "request_button": "submit_send_code", "verify_button": "submit"},
        "magic_link": {"url": "/us-signin", "email_field": "identity",
                       "request_fields": {"chosen_method": "email"},
                       "request_button": "submit_send_code",
                       "link_pattern": r"https?://[^\s<>\"']*/us-verify-link\?[^\s<>\"']*",
                       # both answers are 302: to / when signed in, to /us-signin when not
                       "success": {"status": [302], "redirect_matches": r"^(https?://[^/]+)?/$"}},
    }


def run(recorded: Recorded, server: Server, sink: MailSink, journey: str,
        **mail: object) -> JourneyResult:
    h = harness(recorded, scenario(server.base_url, JOURNEYS, fs_flows(sink, **mail)),
                environ=ENVIRON)
    return h.run(journey)


class KeptMailbox(MailboxClient):
    """The step groups' mailbox client, keeping what they took: a test follows a link again."""

    def __init__(self, http_url: str) -> None:
        super().__init__(http_url)
        self.taken: list[Mail] = []

    def wait_for(self, recipient: str, **kwargs: Any) -> Mail | None:
        mail = super().wait_for(recipient, **kwargs)
        if mail is not None:
            self.taken.append(mail)
        return mail


def landing(state: JourneyState, location: str | None) -> str:
    """The page a redirect leads to: Flask-Security flashes its verdict there."""
    assert location is not None
    return state.http.request("landing", "GET", location).body.decode()


def test_a_new_person_signs_up_confirms_by_link_and_signs_in_with_password(fs_mail, sink, recorded):
    result = run(recorded, fs_mail, sink, "new")
    assert result.ok, result
    assert recorded.rows() == [
        *SIGNUP_ROWS,
        ("login.form", "GET", 200, "ok"),
        ("login.submit", "POST", 302, "ok"),  # email + password guessed, csrf_token carried
        ("api.call", "GET", 200, "ok"),
    ]
    confirm = next(e for e in recorded.events if e["name"] == "signup.confirm")
    assert confirm["url"].endswith("/confirm/<redacted>")


def test_an_unconfirmed_address_cannot_sign_in(fs_mail, sink, recorded):
    result = run(recorded, fs_mail, sink, "unconfirmed")
    # the login form again, with "Email requires confirmation."
    assert (result.outcome, result.step, result.reason) == (
        record.REJECTED, "login.submit", "form re-shown: wrong credentials?")


def test_a_confirmation_link_followed_twice_is_refused_the_second_time(fs_mail, sink, recorded):
    s = scenario(fs_mail.base_url, {"signup": ["form_signup", "email_verify"]}, fs_flows(sink))
    mailbox = KeptMailbox(sink.http_url)
    with person(context(recorded, fs_mail.base_url)) as state:
        FormSignup(s.flows.signup)(state)
        EmailVerify(s.flows.mail, mailbox)(state)  # follows the link: 302 to /login
        assert "Your email has been confirmed." in landing(state, fs_mail.base_url + "/login")
        link = extract_link(mailbox.taken[0], re.compile(s.flows.mail.link_pattern))
        assert link is not None
        # again: a 302 too; only where it leads tells them apart (flows.mail.confirm_success)
        again = state.http.request("signup.confirm", "GET", link, shown_path=shown_link_path(link))
        assert (again.status, again.location) == (302, fs_mail.base_url + "/confirm")
        assert "Your email has already been confirmed." in landing(state, again.location)
    assert recorded.rows() == [
        *SIGNUP_ROWS,
        ("landing", "GET", 200, "ok"),
        ("signup.confirm", "GET", 302, "ok"),
        ("landing", "GET", 200, "ok"),
    ]
    leaked = link.rsplit("/", 1)[-1] in repr(recorded.events)
    assert not leaked, "the confirmation token is in an event"


def test_an_expired_confirmation_link_is_rejected_at_signup_confirm(recorded, tmp_path_factory):
    # links good for 1 s, mail that takes 2.5 s to arrive: expired when followed
    slow = MailSink(SinkBehaviour(delay_s=2.5)).start()
    try:
        with running_flask_security(tmp_path_factory.mktemp("flask-security-expiry"),
                                    FS_SMTP_PORT=str(slow.smtp_port),
                                    FS_CONFIRM_WITHIN_S="1") as server:
            result = run(recorded, server, slow, "new")
    finally:
        slow.stop()
    # Flask-Security answers an expired link with a 302 to /confirm ("You did not confirm
    # your email within 1 second.") where a good one gets a 302 to /login: the
    # confirm_success rule tells them apart
    assert recorded.rows() == [*SIGNUP_ROWS[:-1], ("signup.confirm", "GET", 302, record.REJECTED)]
    assert (result.outcome, result.step) == (record.REJECTED, "signup.confirm")


def test_a_new_person_signs_in_by_the_e_mailed_code(fs_mail, sink, recorded):
    result = run(recorded, fs_mail, sink, "new_by_code")
    assert result.ok, result
    assert recorded.rows()[len(SIGNUP_ROWS):] == [
        ("otp.request", "GET", 200, "ok"),
        ("otp.request", "POST", 200, "ok"),  # /us-signin/send-code: the form again, "Code has been sent."
        ("otp.email", "MAIL", 0, "ok"),
        ("otp.verify", "POST", 302, "ok"),  # /us-signin with the code as passcode, to /
        ("api.call", "GET", 200, "ok"),
    ]


def test_a_wrong_code_is_rejected_at_otp_verify(fs_mail, sink, recorded):
    # a pattern that takes only the code's first five digits
    result = run(recorded, fs_mail, sink, "new_by_code", code_pattern=r"(?<=code: )\d{5}")
    # the form again: "Password or code submitted is not valid"
    assert (result.outcome, result.step) == (record.REJECTED, "otp.verify")


def test_a_new_person_signs_in_by_the_e_mailed_login_link(fs_mail, sink, recorded):
    result = run(recorded, fs_mail, sink, "new_by_link")
    assert result.ok, result
    assert recorded.rows()[len(SIGNUP_ROWS):] == [
        ("magic.request", "GET", 200, "ok"),
        ("magic.request", "POST", 200, "ok"),
        ("magic.email", "MAIL", 0, "ok"),
        ("magic.follow", "GET", 302, "ok"),
        ("api.call", "GET", 200, "ok"),
    ]
    follow = next(e for e in recorded.events if e["name"] == "magic.follow")
    assert follow["url"].endswith("/<redacted>")  # neither its id nor its code


def test_a_login_link_works_twice_within_its_validity(fs_mail, sink, recorded):
    flows = fs_flows(sink)
    s = scenario(fs_mail.base_url, {"x": ["form_signup", "email_verify", "magic_link_login"]}, flows)
    mailbox = KeptMailbox(sink.http_url)
    with person(context(recorded, fs_mail.base_url)) as state:
        FormSignup(s.flows.signup)(state)
        EmailVerify(s.flows.mail, mailbox)(state)
        MagicLinkLogin(s.flows.magic_link, s.flows.mail, mailbox)(state)
        link = extract_link(mailbox.taken[-1], re.compile(s.flows.magic_link.link_pattern))
        assert link is not None
    # Flask-Security's codes are TOTPs and its default Totp keeps no last counter: the link
    # (and its code) sign in again, in another browser, until US_TOKEN_VALIDITY (120 s)
    with person(context(recorded, fs_mail.base_url)) as other:
        again = other.http.request("magic.follow", "GET", link, shown_path=shown_link_path(link))
        assert (again.status, again.header("location")) == (302, "/")
        assert other.http.request("api.call", "GET", fs_mail.base_url + "/api/me").status == 200
