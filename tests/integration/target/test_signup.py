"""Sign-up with e-mail verification and sign-in by e-mailed code (the target's --signup,
django-allauth), against a real target that sends its mail over SMTP to authsurge's mail
sink on 127.0.0.1.

Codes and links are secrets: no assertion message here shows one.
"""

from __future__ import annotations

import itertools
import re
import time
from pathlib import Path

import requests

from authsurge.mail import Mail, MailboxClient, extract_code, extract_link
from authsurge.target import TargetProcess
from authsurge.target.cli import main as target_cli
from authsurge.target.signups import reset_signups

TIMEOUT = 10
MAIL_TIMEOUT_S = 10.0
PASSWORD = "signup-pytest-password"  # the signed-up accounts' own password
PREPARED_USERS = 50  # the session target's, copied with its database
LOGIN_CODE = re.compile(r"(?m)^\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*$")  # allauth's default format
_numbers = itertools.count(1)


def new_address() -> str:
    return f"surge-pytest-{next(_numbers)}@signup.example.test"


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def post_form(s: requests.Session, url: str, **fields: str) -> requests.Response:
    """GET the page, POST its form with the CSRF token and `fields`; no redirects followed."""
    page = s.get(url, timeout=TIMEOUT)
    assert page.status_code == 200
    return s.post(url, data={"csrfmiddlewaretoken": csrf_from(page.text), **fields},
                  allow_redirects=False, timeout=TIMEOUT)


def sign_up(base_url: str, email: str) -> requests.Response:
    return post_form(requests.Session(), f"{base_url}/accounts/signup/", email=email, password1=PASSWORD)


def password_login(base_url: str, username: str, password: str = PASSWORD
                   ) -> tuple[requests.Session, requests.Response]:
    s = requests.Session()
    return s, post_form(s, f"{base_url}/accounts/login/", username=username, password=password)


def wait_mail(mailbox: MailboxClient, email: str, after: float) -> Mail:
    mail = mailbox.wait_for(email, after=after, timeout_s=MAIL_TIMEOUT_S)
    assert mail is not None, f"no mail to {email} within {MAIL_TIMEOUT_S} s"
    return mail


def verification_link(mail: Mail, base_url: str) -> str:
    link = extract_link(mail, f"{base_url}/accounts/confirm-email/")
    assert link is not None, "no confirmation link in the verification mail"
    return link


def signed_up_and_verified(target: TargetProcess, mailbox: MailboxClient) -> str:
    email, started = new_address(), time.time()
    assert sign_up(target.base_url, email).status_code == 302
    link = verification_link(wait_mail(mailbox, email, started), target.base_url)
    assert requests.get(link, allow_redirects=False, timeout=TIMEOUT).status_code == 302
    return email


def me(s: requests.Session, base_url: str) -> requests.Response:
    return s.get(f"{base_url}/api/me", timeout=TIMEOUT)


def test_without_signup_the_target_has_no_signup_pages(target):
    assert requests.get(f"{target.base_url}/accounts/signup/", timeout=TIMEOUT).status_code == 404


def test_sign_up_mails_a_link_that_verifies_the_address_then_password_login_works(
        signup_target, mailbox):
    base, email, started = signup_target.base_url, new_address(), time.time()
    r = sign_up(base, email)
    assert r.status_code == 302 and r.headers["Location"] == "/accounts/confirm-email/"
    mail = wait_mail(mailbox, email, started)
    assert mail.sender == "authsurge-target@example.test"
    assert "Confirm Your Email Address" in mail.subject
    confirmed = requests.get(verification_link(mail, base), allow_redirects=False, timeout=TIMEOUT)
    assert confirmed.status_code == 302 and confirmed.headers["Location"] == "/accounts/login/"
    s, login = password_login(base, email)
    assert login.status_code == 302 and login.headers["Location"] == "/accounts/profile/"
    api = me(s, base)
    assert api.status_code == 200 and api.json()["auth"] == "session"
    assert api.json()["user"] == email.split("@")[0]  # allauth made it from the local part


def test_before_verification_password_login_is_refused_like_a_wrong_password(
        signup_target, mailbox):
    base, email, started = signup_target.base_url, new_address(), time.time()
    assert sign_up(base, email).status_code == 302
    s, login = password_login(base, email)
    assert login.status_code == 200 and "correct username and password" in login.text
    assert "sessionid" not in s.cookies and me(s, base).status_code == 401
    # the same account signs in once its address is verified
    link = verification_link(wait_mail(mailbox, email, started), base)
    assert requests.get(link, allow_redirects=False, timeout=TIMEOUT).status_code == 302
    assert password_login(base, email)[1].status_code == 302


def test_the_prepared_users_still_sign_in_with_their_user_name(signup_target, target_env):
    s, login = password_login(signup_target.base_url, "user0001", target_env.password)
    assert login.status_code == 302 and login.headers["Location"] == "/accounts/profile/"
    assert me(s, signup_target.base_url).json() == {"user": "user0001", "auth": "session"}
    assert password_login(signup_target.base_url, "user0001", "wrong")[1].status_code == 200


def test_a_code_sent_by_mail_signs_in_and_a_wrong_code_does_not(signup_target, mailbox):
    base = signup_target.base_url
    email = signed_up_and_verified(signup_target, mailbox)
    s, started = requests.Session(), time.time()
    requested = post_form(s, f"{base}/accounts/login/code/", email=email)
    assert requested.status_code == 302
    assert requested.headers["Location"] == "/accounts/login/code/confirm/"
    code = extract_code(wait_mail(mailbox, email, started), LOGIN_CODE)
    assert code is not None, "no sign-in code in the mail"
    confirm = f"{base}/accounts/login/code/confirm/"
    wrong = post_form(s, confirm, code="AAAA-0000")  # vowels and digits: never a real code
    assert wrong.status_code == 200 and "Incorrect code" in wrong.text
    assert me(s, base).status_code == 401
    right = post_form(s, confirm, code=code)
    assert right.status_code == 302 and right.headers["Location"] == "/accounts/profile/", \
        "the mailed code was not accepted"
    assert me(s, base).json() == {"user": email.split("@")[0], "auth": "session"}
    assert s.get(f"{base}/accounts/profile/", timeout=TIMEOUT).status_code == 200


def test_a_made_up_or_used_confirmation_link_shows_an_invalid_link_page(signup_target, mailbox):
    """allauth answers 200 with "link expired or is invalid" (not 404) and verifies nothing."""
    base, email, started = signup_target.base_url, new_address(), time.time()
    assert sign_up(base, email).status_code == 302
    made_up = requests.get(f"{base}/accounts/confirm-email/MQ:1tZZZZ:not-a-key/",
                           allow_redirects=False, timeout=TIMEOUT)
    assert made_up.status_code == 200 and "expired or is invalid" in made_up.text
    assert password_login(base, email)[1].status_code == 200  # still unverified
    link = verification_link(wait_mail(mailbox, email, started), base)
    assert requests.get(link, allow_redirects=False, timeout=TIMEOUT).status_code == 302
    used = requests.get(link, allow_redirects=False, timeout=TIMEOUT)
    assert used.status_code == 200 and "expired or is invalid" in used.text
    assert "sessionid" not in used.cookies


def test_three_wrong_codes_end_the_attempt_and_the_mailed_code_no_longer_works(
        signup_target, mailbox):
    base = signup_target.base_url
    email = signed_up_and_verified(signup_target, mailbox)
    s, started = requests.Session(), time.time()
    assert post_form(s, f"{base}/accounts/login/code/", email=email).status_code == 302
    code = extract_code(wait_mail(mailbox, email, started), LOGIN_CODE)
    assert code is not None, "no sign-in code in the mail"
    confirm = f"{base}/accounts/login/code/confirm/"
    answers = [post_form(s, confirm, code=f"AAAA-000{i}") for i in range(3)]
    assert [r.status_code for r in answers[:2]] == [200, 200]
    assert answers[2].status_code == 302 and answers[2].headers["Location"] == "/accounts/login/code/"
    # the confirm page now redirects too: post the mailed code straight at it
    late = s.post(confirm, data={"csrfmiddlewaretoken": s.cookies["csrftoken"], "code": code},
                  allow_redirects=False, timeout=TIMEOUT)
    assert late.status_code == 302 and late.headers["Location"] == "/accounts/login/code/", \
        "the code still worked after three wrong ones"
    assert me(s, base).status_code == 401


def request_codes(base_url: str, email: str, times: int) -> list[requests.Response]:
    return [post_form(requests.Session(), f"{base_url}/accounts/login/code/", email=email)
            for _ in range(times)]


def test_allauth_rate_limits_are_off_unless_asked_for(signup_target, target_factory, sink):
    # allauth's default: 3 code requests a minute per e-mail address
    email = new_address()
    assert [r.status_code for r in request_codes(signup_target.base_url, email, 4)] == [302] * 4
    limited = target_factory(signup=True, smtp_port=sink.smtp_port, signup_rate_limits=True)
    answers = request_codes(limited.base_url, email, 4)
    assert [r.status_code for r in answers] == [302, 302, 302, 200]
    assert "Too many failed login attempts" in answers[3].text


def test_verification_by_code_signs_in_once_the_mailed_code_is_entered(
        target_factory, sink, mailbox):
    proc = target_factory(signup=True, smtp_port=sink.smtp_port, signup_verification="code")
    base, email, started = proc.base_url, new_address(), time.time()
    s = requests.Session()
    signed_up = post_form(s, f"{base}/accounts/signup/", email=email, password1=PASSWORD)
    assert signed_up.status_code == 302 and signed_up.headers["Location"] == "/accounts/confirm-email/"
    mail = wait_mail(mailbox, email, started)
    assert extract_link(mail, f"{base}/accounts/confirm-email/") is None
    code = extract_code(mail, LOGIN_CODE)
    assert code is not None, "no verification code in the mail"
    wrong = post_form(s, f"{base}/accounts/confirm-email/", code="AAAA-0000")
    assert wrong.status_code == 200 and "Incorrect code" in wrong.text
    right = post_form(s, f"{base}/accounts/confirm-email/", code=code)
    assert right.status_code == 302 and right.headers["Location"] == "/accounts/profile/", \
        "the mailed verification code was not accepted"
    assert me(s, base).json() == {"user": email.split("@")[0], "auth": "session"}


def test_reset_signups_removes_the_signed_up_accounts_and_keeps_the_prepared_users(
        signup_target, mailbox, target_env, capsys):
    base = signup_target.base_url
    emails = [signed_up_and_verified(signup_target, mailbox) for _ in range(2)]
    s, _ = password_login(base, emails[0])
    assert me(s, base).status_code == 200
    assert target_cli(["reset-signups", "--data-dir", str(signup_target.data_dir)]) == 0
    assert "signed-up accounts" in capsys.readouterr().out
    for email in emails:
        assert password_login(base, email)[1].status_code == 200  # no such account any more
    assert me(s, base).status_code == 401  # the removed account's session signs no one in
    assert password_login(base, "user0001", target_env.password)[1].status_code == 302
    again = reset_signups(Path(signup_target.data_dir))
    assert (again.users_removed, again.users_kept) == (0, PREPARED_USERS)
