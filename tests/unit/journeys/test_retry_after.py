"""Retry-After read from a 429 or 503, as delta-seconds or an HTTP-date."""

from __future__ import annotations

import email.utils
import time

import pytest

from authsurge.journeys.client import Response
from authsurge.journeys.wire import Head


def answer(status: int, retry_after: str | None) -> Response:
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    return Response("login.submit", "POST", "http://127.0.0.1/", "/", Head(status, headers, []), b"", 0.0, 1.0)


@pytest.mark.parametrize(("status", "value", "seconds"), [
    (503, "7", 7.0),
    (429, "0", 0.0),
    (503, None, None),
    (503, "soon", None),
    (500, "7", None),  # only 429 and 503 ask a client to come back later
    (503, "\u00b2", None),  # a digit to str.isdigit, not to float()
    (503, "9" * 400, 24 * 3600.0),  # no run lasts longer
    (503, "Mon, 99 Foo 99999 99:99:99 GMT", None),
    (200, "7", None),
])
def test_delta_seconds_from_a_429_or_503(status: int, value: str | None, seconds: float | None) -> None:
    assert answer(status, value).retry_after_s() == seconds


def test_an_http_date_is_the_seconds_until_it() -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    seconds = answer(503, when).retry_after_s()
    assert seconds is not None and 28 <= seconds <= 31
    past = email.utils.formatdate(time.time() - 30, usegmt=True)
    assert answer(429, past).retry_after_s() == 0.0
