"""Reporting: one Locust request event per request, with the outcome and reason of the step.

The journeys' client (`client.py`) reports each request exactly once, after the step has
judged the response, so the event carries the step's verdict. This module fires that
event (`Reporter`: the request named by its step, the record columns in `context`) and
holds the mapping from what happened to an outcome class of `authsurge/rundir/records.py`
and a short, secret-free reason: a status code (`status_outcome`) or a request that got
no answer at all (`transport_outcome`).
"""

from __future__ import annotations

import gevent

import ssl
from collections.abc import Callable
from typing import Any

from authsurge.journeys.wire import ConnectionClosed, HTTPParseError
from authsurge.rundir import records as record


class RequestError(Exception):
    """The `exception` of a failed request event: its str() is the short, secret-free reason."""


def status_outcome(status: int) -> str:
    """The outcome class of an unexpected status: http_4xx, http_5xx, else unexpected_page."""
    if 400 <= status < 500:
        return record.HTTP_4XX
    if status >= 500:
        return record.HTTP_5XX
    return record.UNEXPECTED_PAGE


class Reporter:
    """Fires Locust's request event with the record columns of one journey attempt."""

    __slots__ = ("fire", "base", "prefix")

    def __init__(self, fire: Callable[..., Any], base: dict[str, Any], prefix: str = "") -> None:
        self.fire = fire
        # journey, journey_id, person_id, attempt, t_intended, worker, cohort, source
        self.base = base
        self.prefix = prefix  # before each request's step name: "population:" (a cohort's)

    def with_source(self, source: str) -> Reporter:
        """The same journey's reporter for requests from another local address (a second
        browser of the same person)."""
        return Reporter(self.fire, {**self.base, "source": source}, self.prefix)

    def request(
        self,
        method: str,
        step: str,
        url: str,
        status: int,
        start: float,
        elapsed_ms: float,
        length: int,
        outcome: str,
        reason: str,
    ) -> None:
        context = self.base.copy()
        context["status"] = status
        context["outcome"] = outcome
        context["reason"] = reason
        context["method"] = method
        self.fire(
            request_type=method,
            name=self.prefix + step if self.prefix else step,
            response_time=elapsed_ms,
            response_length=length,
            response=None,
            exception=None if outcome == record.OK else RequestError(reason),
            start_time=start,
            url=url,
            context=context,
        )


def transport_outcome(
    exc: BaseException, request: str, timeout_s: float, host: str, port: int
) -> tuple[str, str]:
    """Outcome class and reason for a request that got no answer (`request`: "GET /path")."""
    if isinstance(exc, gevent.Timeout):
        return record.TIMEOUT, f"timeout after {timeout_s:g} s on {request}"
    if isinstance(exc, ConnectionClosed):
        return record.CONNECTION, f"connection closed without a response on {request}"
    if isinstance(exc, HTTPParseError):
        return record.INVALID_RESPONSE, f"malformed HTTP response on {request}"
    if isinstance(exc, ConnectionRefusedError):
        return record.CONNECTION, f"connection refused by {host}:{port} on {request}"
    if isinstance(exc, ssl.SSLError):
        return record.CONNECTION, f"TLS error on {request}: {exc.reason or type(exc).__name__}"
    if isinstance(exc, TimeoutError):
        return record.TIMEOUT, f"connect timeout on {request}"
    return record.CONNECTION, f"connection error ({type(exc).__name__}) on {request}"
