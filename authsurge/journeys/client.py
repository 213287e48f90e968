"""The journeys' HTTP client: one person's browser, its connections and its cookies.

One `HttpClient` is one person's browser for one journey attempt: its own connections
(one persistent HTTP/1.1 connection per origin, DNS cached per process, TLS from the
target config) and its own cookie jar (a shared jar would let SSO skip the password
step). It refuses hosts outside `target.allowed_hosts`, bounds every request by
`timeout_s`, and ends the journey with `PersonLeft` after the `leave_after` request.
Each request is reported exactly once through Locust's `events.request`, after the step
has judged the response, so the event carries the step's verdict (outcome, reason):
`reporting.py` fires the event, `wire.py` writes and reads the HTTP/1.1 messages.

Why not Locust's FastHttpSession or `requests`: this is the harness's hot path, and every
microsecond spent here is a microsecond the load generator is not generating load. Plain
gevent sockets, a response head parsed with a few string splits and a cookie jar that
does only what a browser does for one origin keep the client's CPU per request small
(measured in authsurge/journeys/README.md, "Speed").
"""

from __future__ import annotations  # noqa: I001 - gevent sorts first: it must patch before ssl

import gevent
import gevent.socket
import gevent.ssl

import itertools
import logging
import select
import socket
import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from authsurge.journeys.cookies import CookieJar
from authsurge.journeys.reporting import Reporter, status_outcome, transport_outcome
from authsurge.journeys.response import Response
from authsurge.journeys.urls import split
from authsurge.journeys.wire import (
    ConnectionClosed,
    Head,
    HTTPParseError,
    read_response,
    request_head,
)
from authsurge.rundir import records as record
from authsurge.scenario import TargetConfig

log = logging.getLogger(__name__)


class StepFailed(Exception):
    """A step failed on the target's side; the journey stops and reports it.
    `retry_after_s`: what the failed answer's Retry-After asked for (429 and 503 only);
    `status`: the failed answer's HTTP status (None when no answer was judged)."""

    def __init__(
        self, step: str, outcome: str, reason: str, retry_after_s: float | None = None,
        status: int | None = None,
    ) -> None:  # fmt: skip
        super().__init__(reason)
        self.step, self.outcome, self.reason = step, outcome, reason
        self.retry_after_s, self.status = retry_after_s, status


class PersonLeft(Exception):
    """The person left after the journey's `abandon_after` request succeeded: the journey
    ends there, successfully, without another request (`Journey.run` catches it)."""

    def __init__(self, step: str) -> None:
        super().__init__(f"left after {step}")
        self.step = step


# --- settings shared by every run of a journey ------------------------------------------


@dataclass
class HttpSettings:
    """Timeouts, TLS and the hosts a journey may talk to (from `TargetConfig`)."""

    timeout_s: float = 10.0
    verify_tls: bool = True
    ca_bundle: Path | None = None
    allowed_hosts: frozenset[str] = frozenset(("127.0.0.1", "localhost", "::1"))
    source_addresses: tuple[str, ...] = ()  # each person's connections bind to one
    _ssl_context: ssl.SSLContext | None = field(default=None, repr=False)
    _people: itertools.count[int] = field(default_factory=itertools.count, repr=False)

    @classmethod
    def from_target(cls, target: TargetConfig, base_dir: Path | None = None) -> HttpSettings:
        ca = target.ca_bundle
        if ca is not None and not ca.is_absolute() and base_dir is not None:
            ca = base_dir / ca
        verify = target.verify_tls and not target.insecure
        if not verify:
            log.warning(
                "TLS CERTIFICATE CHECKS ARE OFF for %s (target.insecure / target.verify_tls: false): "
                "anyone on the path can read the credentials this run sends",
                target.base_url,
            )
        return cls(
            timeout_s=target.timeout_s,
            verify_tls=verify,
            ca_bundle=ca,
            allowed_hosts=frozenset(h.lower() for h in target.allowed_hosts),
            source_addresses=tuple(target.source_addresses),
        )

    def next_source(self) -> str | None:
        """The source address of the next person's connections, round-robin (None: the
        system's choice)."""
        if not self.source_addresses:
            return None
        return self.source_addresses[next(self._people) % len(self.source_addresses)]

    def ssl_context(self) -> ssl.SSLContext:
        """One context per journey, not per connection: loading a CA bundle costs milliseconds."""
        if self._ssl_context is None:
            ctx = gevent.ssl.create_default_context(
                cafile=str(self.ca_bundle) if self.ca_bundle else None
            )
            if not self.verify_tls:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            self._ssl_context = ctx
        return self._ssl_context


# --- connections ------------------------------------------------------------------------

_ADDRESSES: dict[tuple[str, int], list[Any]] = {}


def _resolve_cached(host: str, port: int) -> list[Any]:
    """getaddrinfo once per host:port per process.

    gevent resolves on a thread pool; that hop costs ~80 µs of CPU per connection, and
    every journey is a new person with a new connection. A load generator caching DNS
    for a run is what browsers do too.
    """
    key = (host, port)
    found = _ADDRESSES.get(key)
    if found is None:
        found = gevent.socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM, socket.SOL_TCP)
        _ADDRESSES[key] = found
    return found


class Connection:
    """One persistent HTTP/1.1 connection to one origin, reopened when the server closes it.

    Requests go out one at a time (a person's browser tab). A connection is reopened
    only before a request, never to resend one: a request that failed on the wire is the
    step's failure, and a POST (a code exchange above all) is never sent twice.
    """

    __slots__ = (
        "host",
        "port",
        "scheme",
        "settings",
        "source",
        "host_header",
        "sock",
        "idle_since",
    )

    def __init__(
        self, scheme: str, host: str, port: int, settings: HttpSettings, source: str | None = None
    ) -> None:
        self.scheme = scheme
        self.host = host
        self.port = port
        self.settings = settings
        self.source = source  # the local address to connect from (target.source_addresses)
        default = 443 if scheme == "https" else 80
        shown = f"[{host}]" if ":" in host else host
        self.host_header = shown if port == default else f"{shown}:{port}"
        self.sock: Any = None
        self.idle_since = 0.0

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None

    def _connect(self) -> None:
        error: OSError | None = None
        for family, kind, proto, _, address in _resolve_cached(self.host, self.port):
            if self.source is not None and family != socket.AF_INET:
                continue  # an IPv4 source reaches only IPv4 (localhost may resolve to ::1 first)
            sock = gevent.socket.socket(family, kind, proto)
            try:
                if self.source is not None:
                    sock.bind((self.source, 0))
                sock.connect(address)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if self.scheme == "https":
                    sock = self.settings.ssl_context().wrap_socket(sock, server_hostname=self.host)
            except OSError as exc:
                sock.close()
                error = exc
                continue
            self.sock = sock
            return
        raise error or OSError(f"cannot resolve {self.host}")

    def _stale(self) -> bool:
        """True when an idle kept-alive connection was closed by the server meanwhile."""
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)  # idle and readable: EOF (or garbage) from the server

    def request(self, head: bytes, body: bytes | None) -> tuple[Head, bytes]:
        """Send one request (head ends with the blank line); (status and headers, body)."""
        if self.sock is not None and time.monotonic() - self.idle_since > 0.2 and self._stale():
            self.close()
        if self.sock is None:
            self._connect()
        sock = self.sock
        try:
            data = head + body if body else head
            sent = sock.send(data)  # one syscall for a request that fits the socket buffer
            if sent < len(data):
                sock.sendall(data[sent:])
            answer, data, keep = read_response(sock, head.startswith(b"HEAD "))
        except BaseException:
            self.close()
            raise
        if keep:
            self.idle_since = time.monotonic()
        else:
            self.close()
        return answer, data


# --- the client -------------------------------------------------------------------------


class HttpClient:
    """One person's browser for one journey attempt (connections + cookie jar)."""

    def __init__(
        self, settings: HttpSettings, reporter: Reporter, *, leave_after: str | None = None
    ) -> None:
        self.settings = settings
        self.reporter = reporter
        self.leave_after = leave_after  # JourneyConfig.abandon_after
        self.jar = CookieJar()
        self.source = settings.next_source()  # one address per person (per attempt)
        self._conns: dict[tuple[str, str, int], Connection] = {}
        self._pending: Response | None = None

    def close(self) -> None:
        try:
            self._flush()
        except PersonLeft:
            pass  # the attempt is ending anyway; close the connections all the same
        for conn in self._conns.values():
            conn.close()
        self._conns.clear()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        step: str,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        form: bool = False,
        shown_path: str | None = None,
    ) -> Response:
        """Send one request and return the response, not yet reported.

        shown_path: the path that events and reasons show instead of the real one, for a
        URL whose path carries a secret (an e-mailed confirmation link's key).

        The caller judges it and then calls `ok(resp)` or `raise fail(resp, ...)`; a
        response left unjudged is reported as ok when the next request starts or the
        client closes, so no request ever goes unrecorded. A transport failure (timeout,
        refused or reset connection, garbage instead of HTTP) is reported here and
        raised as StepFailed.
        """
        self._flush()
        scheme, host, port, real_path, query = split(url)
        path = shown_path or real_path  # what reasons name
        short_url = public_url(url, path)
        if host not in self.settings.allowed_hosts or scheme not in ("http", "https") or not port:
            # Never follow a redirect (or a discovery document) off the allowed hosts.
            raise self._transport_failure(
                step,
                method,
                short_url,
                time.time(),
                0.0,
                record.UNEXPECTED_PAGE,
                f"refused to send {method} to {scheme}://{host}: not in target.allowed_hosts",
            )
        target = real_path + "?" + query if query else real_path
        key = (scheme, host, port)
        conn = self._conns.get(key)
        if conn is None:
            conn = self._conns[key] = Connection(scheme, host, port, self.settings, self.source)
        cookie = self.jar.header(scheme, host, real_path)
        head = request_head(method, target, conn.host_header, headers, cookie, form, body)
        start = time.time()
        t0 = time.perf_counter()
        if head is None:  # a CR/LF in a header or the target: never sent (header injection)
            raise self._transport_failure(
                step,
                method,
                short_url,
                start,
                0.0,
                record.UNEXPECTED_PAGE,
                f"cannot send {method} {path}: malformed URL or header",
            )
        # A new timer per request, bounding the whole request (connect, send, every read).
        # Not one re-armed timer per person: a stopped and restarted libev timer keeps its
        # first deadline (ev_timer_stop keeps the time left), so a person's requests would
        # share one timeout_s between them and a long journey would time out spuriously.
        timer = gevent.Timeout.start_new(self.settings.timeout_s)
        try:
            answer, data = conn.request(head.encode("latin-1", "replace"), body)
        except (gevent.Timeout, HTTPParseError, ConnectionClosed, OSError) as exc:
            if isinstance(exc, gevent.Timeout) and exc is not timer:
                raise
            outcome, reason = transport_outcome(
                exc, f"{method} {path}", self.settings.timeout_s, host, port
            )
            raise self._transport_failure(
                step, method, short_url, start, _ms(t0), outcome, reason
            ) from None
        finally:
            timer.close()
        elapsed = _ms(t0)
        resp = Response(step, method, url, path, answer, data, start, elapsed, short_url)
        for header in resp.set_cookies:
            self.jar.set_cookie(header, scheme, host, real_path)
        self._pending = resp
        return resp

    def ok(self, resp: Response, note: str = "") -> Response:
        """Report `resp` as a success; `note` (never a secret) goes into its reason, e.g. a
        device poll's "authorization_pending"."""
        self._report(resp, record.OK, note)
        return resp

    def fail(
        self, resp: Response, outcome: str, reason: str, step: str | None = None
    ) -> StepFailed:
        """Report `resp` as failed and return the StepFailed to raise.

        `step` names the step the failure is attributed to when it differs from the
        request's own name (a login form re-shown on the GET after a redirect is still
        the login submit's failure).
        """
        self._report(resp, outcome, reason)
        return StepFailed(step or resp.step, outcome, reason, resp.retry_after_s(), resp.status)

    def fail_status(self, resp: Response, detail: str = "") -> StepFailed:
        reason = resp.describe() + (f" ({detail})" if detail else "")
        return self.fail(resp, status_outcome(resp.status), reason)

    def expect(self, resp: Response, statuses: tuple[int, ...] | list[int]) -> Response:
        """Report ok when the status is one of `statuses`, else fail with the status."""
        if resp.status in statuses:
            return self.ok(resp)
        raise self.fail_status(resp)

    def _report(self, resp: Response, outcome: str, reason: str) -> None:
        if resp.reported:
            return
        resp.reported = True
        if self._pending is resp:
            self._pending = None
        self.reporter.request(
            resp.method,
            resp.step,
            resp.public_url,
            resp.status,
            resp.start,
            resp.elapsed_ms,
            len(resp.body),
            outcome,
            reason,
        )
        if outcome == record.OK and resp.step == self.leave_after:
            # Raised here, where the verdict is recorded, so no step code can run another
            # request (or fail) after it; a failed request fails the journey as usual.
            raise PersonLeft(resp.step)

    def _flush(self) -> None:
        pending = self._pending
        if pending is not None and not pending.reported:
            self._report(pending, record.OK, "")
        self._pending = None

    def _transport_failure(
        self,
        step: str,
        method: str,
        url: str,
        start: float,
        elapsed: float,
        outcome: str,
        reason: str,
    ) -> StepFailed:
        self.reporter.request(method, step, url, 0, start, elapsed, 0, outcome, reason)
        return StepFailed(step, outcome, reason)


def public_url(url: str, path: str) -> str:
    """What events may show of `url`: scheme, host and `path` (the real one, or what a
    step shows instead of a secret one); never a query or a fragment."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return path
    netloc = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    return f"{scheme}://{netloc}{path}"


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000.0
