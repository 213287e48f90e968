"""What events show of an e-mailed link: never its key, whether it is in the path, the
query or the fragment (authsurge.journeys.mail_wait, client.public_url)."""

from __future__ import annotations

import pytest

from authsurge.journeys.client import public_url
from authsurge.journeys.mail_wait import shown_link_path

LINKS = [
    "http://127.0.0.1:8000/accounts/confirm-email/MQ:1tAbc:SECRETKEY/",
    "http://127.0.0.1:8000/accounts/confirm-email/MQ:1tAbc:SECRETKEY/?next=/x",
    "http://app.example/verify#token=SECRETKEY",
    "http://app.example/confirm/SECRETKEY#top",
    "http://127.0.0.1:8000/accounts/magic/login/?sesame=SECRETKEY",
]


@pytest.mark.parametrize("link", LINKS)
def test_an_e_mailed_link_is_shown_without_its_key(link):
    shown = public_url(link, shown_link_path(link))
    assert "SECRETKEY" not in shown and "?" not in shown and "#" not in shown
    assert shown.startswith(link.split("/", 3)[0] + "//" + link.split("/", 3)[2] + "/")


def test_a_plain_url_is_shown_as_it_is_without_query_or_fragment():
    assert public_url("https://idp.example:8443/o/token/?code=x#y", "/o/token/") == (
        "https://idp.example:8443/o/token/")
