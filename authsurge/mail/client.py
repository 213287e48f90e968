"""`MailboxClient`: how a journey waits for the mail a target sent to one of its people.

It reads the sink's HTTP API (authsurge/mail/http_api.py documents it) with
`urllib.request` and waits with `time.sleep`, both cooperative once Locust's gevent has
monkey-patched the process, so a journey waiting for mail never blocks the other
journeys of its worker. Each mail is returned once: `wait_for` takes it from the mailbox
on the server, so the next wait for the same person gets the next mail.

(Named client.py, not mailbox.py: tools/check_layout.py refuses module names of the
standard library, and `mailbox` is one.)
"""

from __future__ import annotations

import json
import math
import time
import urllib.error
import urllib.request
from http import HTTPStatus
from http.client import HTTPException
from typing import Any
from urllib.parse import quote

from authsurge.mail.message import Mail

REQUEST_TIMEOUT_S = 2.0
MIN_REQUEST_TIMEOUT_S = 0.05


class MailSinkError(RuntimeError):
    """The mail sink did not answer, or answered something that is not its API. The
    message names the URL path and the failure, never a mail's content."""


class MailboxClient:
    """Reads the mailboxes of the sink at `http_url` (MailSink.http_url)."""

    def __init__(self, http_url: str, *, request_timeout_s: float = REQUEST_TIMEOUT_S) -> None:
        self.http_url = http_url.rstrip("/")
        self.request_timeout_s = request_timeout_s

    def wait_for(
        self, recipient: str, *, after: float, timeout_s: float, poll_s: float = 0.05
    ) -> Mail | None:
        """The first mail to `recipient` visible in its mailbox and received at or after
        `after` (epoch seconds, the sink's clock: the same host's), taken from the mailbox;
        None when none is there within `timeout_s`.

        Polls every `poll_s` at most ceil(timeout_s / poll_s) + 1 times. A poll that fails
        (the sink busy or unreachable) is retried until the time is up; MailSinkError when
        the last poll failed too, so a dead sink is not mistaken for lost mail.
        """
        if not math.isfinite(timeout_s) or timeout_s < 0:
            raise ValueError(f"timeout_s must be a finite number >= 0, not {timeout_s!r}")
        if not math.isfinite(poll_s) or poll_s <= 0:
            raise ValueError(f"poll_s must be a finite number > 0, not {poll_s!r}")
        path = f"/mail/{quote(recipient.lower(), safe='')}/take?after={float(after)!r}"
        deadline = time.monotonic() + timeout_s
        failure: MailSinkError | None = None
        for _ in range(math.ceil(timeout_s / poll_s) + 1):
            try:
                status, payload = self._request("POST", path, deadline)
            except MailSinkError as exc:
                failure = exc
            else:
                failure = None
                if status == HTTPStatus.OK:
                    return _mail(payload, path)
            left = deadline - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(poll_s, left))
        if failure is not None:
            raise failure
        return None

    def peek(self, recipient: str, *, after: float = 0.0) -> list[Mail]:
        """The mails to `recipient` visible now and received at or after `after`, left in
        the mailbox (for checks and debugging; journeys use wait_for)."""
        path = f"/mail/{quote(recipient.lower(), safe='')}?after={float(after)!r}"
        _, payload = self._request("GET", path, None)
        if not isinstance(payload, list):
            raise MailSinkError(f"mail sink: GET {path} did not answer a JSON list")
        return [_mail(item, path) for item in payload]

    def counters(self) -> dict[str, int]:
        """The sink's counters (received, delivered, dropped, rejected)."""
        _, payload = self._request("GET", "/counters", None)
        if not isinstance(payload, dict):
            raise MailSinkError("mail sink: GET /counters did not answer a JSON object")
        return {str(k): int(v) for k, v in payload.items()}

    def _request(self, method: str, path: str, deadline: float | None) -> tuple[int, Any]:
        """(status, decoded JSON or None) of one request; MailSinkError on any failure."""
        timeout = self.request_timeout_s
        if deadline is not None:
            timeout = max(MIN_REQUEST_TIMEOUT_S, min(timeout, deadline - time.monotonic()))
        data = b"" if method == "POST" else None
        request = urllib.request.Request(self.http_url + path, data=data, method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as exc:
            raise MailSinkError(f"mail sink: {method} {path} answered {exc.code}") from None
        except (OSError, HTTPException) as exc:  # URLError, refused, reset, timeout
            reason = getattr(exc, "reason", None) or type(exc).__name__
            raise MailSinkError(f"mail sink: {method} {path} failed: {reason}") from None
        if status == HTTPStatus.NO_CONTENT or not body:
            return status, None
        try:
            return status, json.loads(body)
        except ValueError:
            raise MailSinkError(f"mail sink: {method} {path} did not answer JSON") from None


def _mail(payload: Any, path: str) -> Mail:
    if not isinstance(payload, dict):
        raise MailSinkError(f"mail sink: {path} did not answer a mail object")
    try:
        return Mail.from_dict(payload)
    except ValueError as exc:
        raise MailSinkError(f"mail sink: {path} answered {exc}") from None
