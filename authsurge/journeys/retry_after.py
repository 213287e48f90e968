"""Retry-After (RFC 9110 10.2.3): how long an overloaded server asks a client to wait."""

from __future__ import annotations

import email.utils
import time

ASKING_STATUSES = (429, 503)  # the answers whose Retry-After asks a client to come back later


def seconds(status: int, value: str | None, now: float | None = None) -> float | None:
    """Seconds a 429 or 503 asks for: delta-seconds, or an HTTP-date (0 once it passed);
    None for other answers or a value that does not parse."""
    if status not in ASKING_STATUSES or not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
