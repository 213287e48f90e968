"""Retry-After (RFC 9110 10.2.3): how long an overloaded server asks a client to wait."""

from __future__ import annotations

import email.utils
import time

ASKING_STATUSES = (429, 503)  # the answers whose Retry-After asks a client to come back later
MAX_S = 24 * 3600.0  # no run lasts longer: a larger value is read as this


def seconds(status: int, value: str | None, now: float | None = None) -> float | None:
    """Seconds a 429 or 503 asks for: delta-seconds, or an HTTP-date (0 once it passed),
    at most MAX_S; None for other answers or a value that does not parse. Never raises: a
    server's garbage header must not end the attempt as the harness's error."""
    if status not in ASKING_STATUSES or not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # isdigit alone takes "²", which float() refuses
        return min(float(value), MAX_S)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if when.tzinfo is None:
        return None
    return min(MAX_S, max(0.0, when.timestamp() - (time.time() if now is None else now)))
