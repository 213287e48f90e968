"""HTTP/1.1 on the wire: the head of a request to send, a response read off a socket.

No sockets are opened here and nothing is reported: `client.py` owns the connections and
hands this module a connected socket. What is here is the message format: the request
line and headers (with the header-injection guard), the status line and headers of an
answer, Content-Length, chunked and close-delimited bodies, interim 1xx answers, and the
Basic credentials of a token request.
"""

from __future__ import annotations

import base64
from typing import Any, NamedTuple
from urllib.parse import quote_plus

USER_AGENT = "authsurge"


class ConnectionClosed(Exception):
    """The server closed the connection before a complete response."""


class HTTPParseError(Exception):
    """The answer is not HTTP/1.x."""


def request_head(
    method: str,
    target: str,
    host_header: str,
    headers: dict[str, str] | None,
    cookie: str | None,
    form: bool,
    body: bytes | None,
) -> str | None:
    """The request line and headers of one request, ending with the blank line.

    `target` is the path and query; `headers` None sends `Accept: */*`. None when a line
    feed anywhere but the line ends, or a CR or space in the target, would make it
    another request than the one asked for (header injection).
    """
    lines = [f"{method} {target} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: {USER_AGENT}\r\n"]
    if headers is None:
        lines.append("Accept: */*\r\n")
    else:
        for name, value in headers.items():
            lines.append(f"{name}: {value}\r\n")
    if cookie:
        lines.append(f"Cookie: {cookie}\r\n")
    if form:
        lines.append("Content-Type: application/x-www-form-urlencoded\r\n")
    if body is not None:
        lines.append(f"Content-Length: {len(body)}\r\n")
    lines.append("\r\n")
    head = "".join(lines)
    # Header injection guard: the only CR/LF allowed are the line ends we wrote.
    if head.count("\n") != len(lines) + 2 or "\r" in target or " " in target:
        return None
    return head


_MAX_HEAD = 65536


class Head(NamedTuple):
    """A response's status and headers (Set-Cookie fields kept apart, in order)."""

    status: int
    headers: dict[str, str]
    set_cookies: list[str]


def read_response(sock: Any, head_request: bool) -> tuple[Head, bytes, bool]:
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


def basic_auth(user: str, password: str) -> str:
    """RFC 6749 2.3.1: client id and secret are form-urlencoded before Basic encoding."""
    token = f"{quote_plus(user)}:{quote_plus(password)}".encode()
    return "Basic " + base64.b64encode(token).decode("ascii")
