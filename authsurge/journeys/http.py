"""The journeys' HTTP client: geventhttpclient, a small cookie jar, and one event per request.

Why not Locust's FastHttpSession or `requests`: this is the harness's hot path, and every
microsecond spent here is a microsecond the load generator is not generating load.
geventhttpclient's C parser plus a cookie jar that does only what a browser does for
one origin keeps a whole OIDC login well under a millisecond of client CPU per request.

One `HttpClient` is one person's browser for one journey attempt: its own connections
and its own cookie jar (a shared jar would let SSO skip the password step). Each request
is reported exactly once through Locust's `events.request`, after the step has judged
the response, so the event carries the step's verdict (outcome, reason).
"""

from __future__ import annotations  # noqa: I001 - gevent sorts first: it must patch before ssl

import gevent
import gevent.socket
import gevent.ssl

import base64
import json
import logging
import select
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote_plus

from authsurge.rundir import records as record
from authsurge.journeys.cookies import CookieJar
from authsurge.journeys.urls import resolve_location, split
from authsurge.scenario import TargetConfig

log = logging.getLogger(__name__)

REDIRECTS = frozenset((301, 302, 303, 307, 308))
USER_AGENT = "authsurge"


class StepFailed(Exception):
    """A step failed on the target's side; the journey stops and reports it."""

    def __init__(self, step: str, outcome: str, reason: str) -> None:
        super().__init__(reason)
        self.step = step
        self.outcome = outcome
        self.reason = reason


class PersonLeft(Exception):
    """The person left after the journey's `abandon_after` request succeeded: the journey
    ends there, successfully, without another request (`Journey.run` catches it)."""

    def __init__(self, step: str) -> None:
        super().__init__(f"left after {step}")
        self.step = step


class RequestError(Exception):
    """The `exception` of a failed request event: its str() is the short, secret-free reason."""


# --- settings shared by every run of a journey ------------------------------------------


@dataclass
class HttpSettings:
    """Timeouts, TLS and the hosts a journey may talk to (from `TargetConfig`)."""

    timeout_s: float = 10.0
    verify_tls: bool = True
    ca_bundle: Path | None = None
    allowed_hosts: frozenset[str] = frozenset(("127.0.0.1", "localhost", "::1"))
    _ssl_context: ssl.SSLContext | None = field(default=None, repr=False)

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
        )

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


class ConnectionClosed(Exception):
    """The server closed the connection before a complete response."""


class HTTPParseError(Exception):
    """The answer is not HTTP/1.x."""


class _Connection:
    """One persistent HTTP/1.1 connection to one origin, reopened when the server closes it.

    Requests go out one at a time (a person's browser tab). A connection is reopened
    only before a request, never to resend one: a request that failed on the wire is the
    step's failure, and a POST (a code exchange above all) is never sent twice.
    """

    __slots__ = ("host", "port", "scheme", "settings", "host_header", "sock", "idle_since")

    def __init__(self, scheme: str, host: str, port: int, settings: HttpSettings) -> None:
        self.scheme = scheme
        self.host = host
        self.port = port
        self.settings = settings
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
            sock = gevent.socket.socket(family, kind, proto)
            try:
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
            answer, data, keep = _read_response(sock, head.startswith(b"HEAD "))
        except BaseException:
            self.close()
            raise
        if keep:
            self.idle_since = time.monotonic()
        else:
            self.close()
        return answer, data


_MAX_HEAD = 65536


class Head(NamedTuple):
    status: int
    headers: dict[str, str]
    set_cookies: list[str]


def _read_response(sock: Any, head_request: bool) -> tuple[Head, bytes, bool]:
    """Read one response: (status and headers, body, keep-alive).

    A plain reader rather than a callback parser: on a 2-core load generator every
    Python call per header adds up, and a response head is one split away from parsed.
    Handles Content-Length, chunked and close-delimited bodies and interim 1xx answers.
    """
    buf = b""
    while True:
        while True:
            end = buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(buf) > _MAX_HEAD:
                raise HTTPParseError("response head too large")
            data = sock.recv(65536)
            if not data:
                raise ConnectionClosed("closed")
            buf += data
        lines = buf[:end].decode("latin-1").split("\r\n")
        buf = buf[end + 4 :]
        version, _, rest = lines[0].partition(" ")
        code = rest[:3]
        if not version.startswith("HTTP/1.") or not code.isdigit():
            raise HTTPParseError("not an HTTP/1.x status line")
        status = int(code)
        if status >= 200 or status == 101:
            break
    headers: dict[str, str] = {}  # lower-case names; repeated fields joined with ", "
    cookies: list[str] = []
    name = ""
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and name:  # obsolete line folding
            headers[name] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise HTTPParseError("malformed header line")
        name = name.lower()
        value = value.strip()
        if name == "set-cookie":
            cookies.append(value)
            name = ""
        elif name in headers:
            headers[name] += ", " + value
        else:
            headers[name] = value
    head = Head(status, headers, cookies)
    connection = headers.get("connection", "").lower()
    keep = "close" not in connection and (version != "HTTP/1.0" or "keep-alive" in connection)
    if head_request or status in (204, 304) or 100 <= status < 200:
        return head, b"", keep
    if headers.get("transfer-encoding", "").lower().endswith("chunked"):
        return head, _read_chunked(sock, buf), keep
    if "content-length" in headers:
        value = headers["content-length"]
        if not value.isdigit():
            raise HTTPParseError("bad Content-Length")
        length = int(value)
        while len(buf) < length:
            data = sock.recv(max(65536, length - len(buf)))
            if not data:
                raise ConnectionClosed("closed")
            buf += data
        return head, buf[:length], keep
    chunks = [buf]  # no length: the body ends when the server closes the connection
    while True:
        data = sock.recv(65536)
        if not data:
            return head, b"".join(chunks), False
        chunks.append(data)


def _read_chunked(sock: Any, buf: bytes) -> bytes:
    body = bytearray()
    while True:
        while (eol := buf.find(b"\r\n")) < 0:
            data = sock.recv(65536)
            if not data:
                raise ConnectionClosed("closed")
            buf += data
        try:
            size = int(buf[:eol].split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise HTTPParseError("bad chunk size") from None
        buf = buf[eol + 2 :]
        if size == 0:
            # trailers (usually none) end with an empty line
            while not (buf.startswith(b"\r\n") or b"\r\n\r\n" in buf):
                data = sock.recv(65536)
                if not data:
                    raise ConnectionClosed("closed")
                buf += data
            return bytes(body)
        while len(buf) < size + 2:
            data = sock.recv(65536)
            if not data:
                raise ConnectionClosed("closed")
            buf += data
        body += buf[:size]
        buf = buf[size + 2 :]


# --- responses and reporting ------------------------------------------------------------


class Response:
    """One exchange: the request line, the answer, timing, and whether it has been reported."""

    __slots__ = (
        "step",
        "method",
        "url",
        "path",
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
    ) -> None:
        self.step = step
        self.method = method
        self.url = url
        self.path = path  # path only: queries can carry codes and tokens, reasons must not
        self.status = head.status
        self.headers = head.headers  # lower-case names; repeated fields joined with ", "
        self.set_cookies = head.set_cookies
        self.body = body
        self.start = start
        self.elapsed_ms = elapsed_ms
        self.reported = False

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

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


def status_outcome(status: int) -> str:
    if 400 <= status < 500:
        return record.HTTP_4XX
    if status >= 500:
        return record.HTTP_5XX
    return record.UNEXPECTED_PAGE


class Reporter:
    """Fires Locust's request event with the record columns of one journey attempt."""

    __slots__ = ("fire", "base")

    def __init__(self, fire: Callable[..., Any], base: dict[str, Any]) -> None:
        self.fire = fire
        self.base = base  # journey, journey_id, person_id, attempt, t_intended, worker

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
            name=step,
            response_time=elapsed_ms,
            response_length=length,
            response=None,
            exception=None if outcome == record.OK else RequestError(reason),
            start_time=start,
            url=url,
            context=context,
        )


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
        self._conns: dict[tuple[str, str, int], _Connection] = {}
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
    ) -> Response:
        """Send one request and return the response, not yet reported.

        The caller judges it and then calls `ok(resp)` or `raise fail(resp, ...)`; a
        response left unjudged is reported as ok when the next request starts or the
        client closes, so no request ever goes unrecorded. A transport failure (timeout,
        refused or reset connection, garbage instead of HTTP) is reported here and
        raised as StepFailed.
        """
        self._flush()
        scheme, host, port, path, query = split(url)
        short_url = url.split("?", 1)[0]
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
        target = path + "?" + query if query else path
        key = (scheme, host, port)
        conn = self._conns.get(key)
        if conn is None:
            conn = self._conns[key] = _Connection(scheme, host, port, self.settings)
        lines = [
            f"{method} {target} HTTP/1.1\r\nHost: {conn.host_header}\r\nUser-Agent: {USER_AGENT}\r\n"
        ]
        if headers is None:
            lines.append("Accept: */*\r\n")
        else:
            for name, value in headers.items():
                lines.append(f"{name}: {value}\r\n")
        cookie = self.jar.header(scheme, host, path)
        if cookie:
            lines.append(f"Cookie: {cookie}\r\n")
        if form:
            lines.append("Content-Type: application/x-www-form-urlencoded\r\n")
        if body is not None:
            lines.append(f"Content-Length: {len(body)}\r\n")
        lines.append("\r\n")
        head = "".join(lines)
        start = time.time()
        t0 = time.perf_counter()
        # Header injection guard: the only CR/LF allowed are the line ends we wrote.
        if head.count("\n") != len(lines) + 2 or "\r" in target or " " in target:
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
            outcome, reason = _transport_outcome(
                exc, f"{method} {path}", self.settings.timeout_s, host, port
            )
            raise self._transport_failure(
                step, method, short_url, start, _ms(t0), outcome, reason
            ) from None
        finally:
            timer.close()
        elapsed = _ms(t0)
        resp = Response(step, method, url, path, answer, data, start, elapsed)
        for header in resp.set_cookies:
            self.jar.set_cookie(header, scheme, host, path)
        self._pending = resp
        return resp

    def ok(self, resp: Response) -> Response:
        self._report(resp, record.OK, "")
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
        return StepFailed(step or resp.step, outcome, reason)

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
            resp.url.split("?", 1)[0],
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


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000.0


def basic_auth(user: str, password: str) -> str:
    """RFC 6749 2.3.1: client id and secret are form-urlencoded before Basic encoding."""
    token = f"{quote_plus(user)}:{quote_plus(password)}".encode()
    return "Basic " + base64.b64encode(token).decode("ascii")


def _transport_outcome(
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
