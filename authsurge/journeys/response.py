"""One HTTP response as a journey sees it: status, headers, body, and what events and
reasons may show of its URL (no query; a secret path as the step gave it)."""

from __future__ import annotations

import json
from typing import Any

from authsurge.journeys import retry_after
from authsurge.journeys.urls import resolve_location
from authsurge.journeys.wire import Head

REDIRECTS = frozenset((301, 302, 303, 307, 308))


class Response:
    """One exchange: the request line, the answer, timing, and whether it has been reported."""

    __slots__ = (
        "step",
        "method",
        "url",
        "path",
        "public_url",
        "status",
        "headers",
        "set_cookies",
        "body",
        "start",
        "elapsed_ms",
        "reported",
    )

    def __init__(
        self,
        step: str,
        method: str,
        url: str,
        path: str,
        head: Head,
        body: bytes,
        start: float,
        elapsed_ms: float,
        public_url: str = "",
    ) -> None:
        self.step = step
        self.method = method
        self.url = url
        self.path = path  # path only: queries can carry codes and tokens, reasons must not
        # what events and reasons may show: no query, and a secret path shown as given
        self.public_url = public_url or url.split("?", 1)[0].split("#", 1)[0]
        self.status = head.status
        self.headers = head.headers  # lower-case names; repeated fields joined with ", "
        self.set_cookies = head.set_cookies
        self.body = body
        self.start = start
        self.elapsed_ms = elapsed_ms
        self.reported = False

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def retry_after_s(self) -> float | None:
        """Seconds a 429 or 503 asks the client to wait (None: it does not)."""
        return retry_after.seconds(self.status, self.headers.get("retry-after"))

    @property
    def location(self) -> str | None:
        """The redirect target, absolute (Location may be relative)."""
        loc = self.headers.get("location")
        return resolve_location(self.url, loc) if loc else None

    @property
    def is_redirect(self) -> bool:
        return self.status in REDIRECTS

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def json(self) -> Any:
        return json.loads(self.body)

    def describe(self) -> str:
        """'403 on POST /accounts/login/': the standard reason for an unexpected status."""
        return f"{self.status} on {self.method} {self.path}"
