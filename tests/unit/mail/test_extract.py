"""extract_link and extract_code on realistic allauth mails."""

from __future__ import annotations

import re

from authsurge.mail import Mail, extract_code, extract_link, links

CONFIRM = "https://127.0.0.1:8000/accounts/confirm-email/Mg:1tXyZa:8kQ2vR_Jm-3aBcD/"
ALLAUTH_CONFIRM = f"""Hello from 127.0.0.1:8000!

You're receiving this email because user person0001 has given your email address to
register an account on 127.0.0.1:8000.

To confirm this is correct, go to {CONFIRM}.

Thank you for using 127.0.0.1:8000!
127.0.0.1:8000
"""
ALLAUTH_CODE = """Hello from 127.0.0.1:8000!

You are receiving this mail because a one-time sign-in code has been requested for your
account at 127.0.0.1:8000.

Your sign-in code is listed below. Please enter it in your open browser window.

BCDF-GHJK

Thank you for using 127.0.0.1:8000!
"""


def mail(body: str) -> Mail:
    return Mail(recipient="person0001@example.com", sender="webmaster@localhost",
                subject="[127.0.0.1:8000] Please Confirm Your Email Address", body=body,
                received_at=1_700_000_000.0)


def test_extract_link_finds_the_confirmation_link_by_its_base_url_without_the_full_stop():
    found = extract_link(mail(ALLAUTH_CONFIRM), "https://127.0.0.1:8000/accounts/confirm-email/")
    assert found == CONFIRM


def test_extract_link_matches_a_compiled_pattern_anywhere_in_the_link():
    assert extract_link(mail(ALLAUTH_CONFIRM), re.compile(r"/confirm-email/[^/]+/$")) == CONFIRM


def test_extract_link_is_none_when_no_link_fits():
    assert extract_link(mail(ALLAUTH_CONFIRM), "https://elsewhere.example/") is None
    assert extract_link(mail(ALLAUTH_CODE), re.compile("confirm")) is None


def test_links_lists_every_http_link_in_order():
    body = "a http://x.example/1, then (https://y.example/2) and <https://z.example/3>"
    assert links(mail(body)) == ["http://x.example/1", "https://y.example/2", "https://z.example/3"]


def test_extract_code_finds_an_allauth_code_or_six_digits():
    assert extract_code(mail(ALLAUTH_CODE)) == "BCDF-GHJK"
    assert extract_code(mail("Your sign-in code is 482913")) == "482913"


def test_extract_code_takes_a_custom_regex_and_returns_its_first_group():
    assert extract_code(mail("code: 482913."), r"code: (\d{6})") == "482913"
    assert extract_code(mail("PIN 7731"), re.compile(r"\b\d{4}\b")) == "7731"


def test_extract_code_is_none_when_nothing_matches():
    assert extract_code(mail("Welcome aboard!")) is None
