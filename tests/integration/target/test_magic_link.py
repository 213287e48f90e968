"""Sign-in by e-mailed link (the target's --signup, django-sesame under /accounts/magic/),
against a real target that sends its mail over SMTP to authsurge's mail sink.

Links and tokens are secrets: no assertion message here shows one.
"""

from __future__ import annotations

import time

import requests

from authsurge.mail import MailboxClient, extract_link
from authsurge.target import TargetProcess
from tests.integration.target.test_signup import (
    TIMEOUT,
    me,
    new_address,
    post_form,
    sign_up,
    signed_up_and_verified,
    wait_mail,
)

SENT = "/accounts/magic/sent/"  # where every link request is sent, account or not
NO_MAIL_WAIT_S = 1.0


def request_link(base_url: str, email: str) -> requests.Response:
    return post_form(requests.Session(), f"{base_url}/accounts/magic/", email=email)


def mailed_link(target: TargetProcess, mailbox: MailboxClient, email: str) -> str:
    started = time.time()
    asked = request_link(target.base_url, email)
    assert asked.status_code == 302 and asked.headers["Location"] == SENT
    link = extract_link(wait_mail(mailbox, email, started),
                        f"{target.base_url}/accounts/magic/login/?sesame=")
    assert link is not None, "no sign-in link in the mail"
    return link


def follow(link: str) -> tuple[requests.Session, requests.Response]:
    s = requests.Session()
    return s, s.get(link, allow_redirects=False, timeout=TIMEOUT)


def test_without_signup_there_are_no_magic_link_pages(target):
    assert requests.get(f"{target.base_url}/accounts/magic/", timeout=TIMEOUT).status_code == 404


def test_a_verified_account_gets_a_link_that_signs_in_once(signup_target, mailbox):
    base = signup_target.base_url
    email = signed_up_and_verified(signup_target, mailbox)
    page = requests.get(f"{base}/accounts/magic/", timeout=TIMEOUT)
    assert page.status_code == 200 and 'type="email"' in page.text
    started = time.time()
    asked = request_link(base, email.upper())  # the address is looked up in any case
    assert asked.status_code == 302 and asked.headers["Location"] == SENT
    assert requests.get(base + SENT, timeout=TIMEOUT).status_code == 200
    mail = wait_mail(mailbox, email, started)
    assert mail.sender == "authsurge-target@example.test" and "sign-in link" in mail.subject
    link = extract_link(mail, f"{base}/accounts/magic/login/?sesame=")
    assert link is not None, "no sign-in link in the mail"
    s, signed_in = follow(link)
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/accounts/profile/"
    assert me(s, base).json() == {"user": email.split("@")[0], "auth": "session"}
    again, used = follow(link)  # one-time: the sign-in changed what the token signs
    assert used.status_code == 403 and "403 Forbidden" in used.text
    assert "sessionid" not in again.cookies and me(again, base).status_code == 401


def test_an_unknown_or_unverified_address_gets_the_same_answer_and_no_mail(
        signup_target, mailbox):
    base, unknown, unverified = signup_target.base_url, new_address(), new_address()
    signed_up = time.time()
    assert sign_up(base, unverified).status_code == 302
    wait_mail(mailbox, unverified, signed_up)  # the verification mail, left unused
    started = time.time()
    for email in (unknown, unverified):
        asked = request_link(base, email)
        assert (asked.status_code, asked.headers["Location"]) == (302, SENT)
    # the mail goes out inside the request: after the 302 it would already be there
    assert mailbox.wait_for(unverified, after=started, timeout_s=NO_MAIL_WAIT_S) is None
    assert mailbox.wait_for(unknown, after=started, timeout_s=0.1) is None


def test_a_tampered_missing_or_made_up_token_is_refused_and_the_real_one_still_works(
        signup_target, mailbox):
    base = signup_target.base_url
    email = signed_up_and_verified(signup_target, mailbox)
    link = mailed_link(signup_target, mailbox, email)
    last = "B" if link.endswith("A") else "A"  # a signature bit changed
    login = f"{base}/accounts/magic/login/"
    for bad in (link[:-1] + last, login, login + "?sesame=not-a-token"):
        s, refused = follow(bad)
        assert refused.status_code == 403, "a bad sign-in link was not refused"
        assert "sessionid" not in s.cookies
    s, signed_in = follow(link)
    assert signed_in.status_code == 302 and me(s, base).status_code == 200


def test_an_expired_link_is_refused(target_factory, sink, mailbox):
    short = target_factory(signup=True, smtp_port=sink.smtp_port, magic_link_max_age_s=1)
    link = mailed_link(short, mailbox, signed_up_and_verified(short, mailbox))
    time.sleep(1.05)  # sesame counts whole seconds: the token's age is now at least 1
    s, expired = follow(link)
    assert expired.status_code == 403 and "sessionid" not in s.cookies


def test_a_link_request_without_the_csrf_token_is_refused(signup_target):
    refused = requests.post(f"{signup_target.base_url}/accounts/magic/",
                            data={"email": new_address()}, allow_redirects=False, timeout=TIMEOUT)
    assert refused.status_code == 403
