"""The HTTP/1.1 wire format without a server: request heads, responses read off a socket."""

from __future__ import annotations

import base64

import pytest

from authsurge.journeys.wire import (
    ConnectionClosed,
    HTTPParseError,
    basic_auth,
    read_response,
    request_head,
)


class Pieces:
    """A socket that answers recv() with the given pieces, then b"" (closed)."""

    def __init__(self, *pieces: bytes) -> None:
        self.pieces = list(pieces)

    def recv(self, _n: int) -> bytes:
        return self.pieces.pop(0) if self.pieces else b""


def test_request_head_has_the_headers_asked_for_and_a_blank_line():
    head = request_head("POST", "/t?a=1", "h:8080", {"X-A": "1"}, "s=1", True, b"abc")
    assert head == (
        "POST /t?a=1 HTTP/1.1\r\nHost: h:8080\r\nUser-Agent: authsurge\r\nX-A: 1\r\n"
        "Cookie: s=1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        "Content-Length: 3\r\n\r\n"
    )
    assert "Accept: */*\r\n" in (request_head("GET", "/", "h", None, None, False, None) or "")


@pytest.mark.parametrize(
    ("target", "headers"),
    [("/", {"X": "a\r\nY: 1"}), ("/", {"X": "a\nY: 1"}), ("/a b", {}), ("/a\r", {})],
)
def test_request_head_refuses_injected_lines(target, headers):
    assert request_head("GET", target, "h", headers, None, False, None) is None


def test_read_response_in_pieces_chunked_with_trailers():
    sock = Pieces(
        b"HTTP/1.1 200 OK\r\nTransfer-",
        b"Encoding: chunked\r\nSet-Cookie: a=1\r\n",
        b"Set-Cookie: b=2\r\n\r\n5\r\nhel",
        b"lo\r\n0\r\nX-T: t\r\n\r\n",
    )
    head, body, keep = read_response(sock, False)
    assert (head.status, body, keep) == (200, b"hello", True)
    assert head.set_cookies == ["a=1", "b=2"] and "set-cookie" not in head.headers


def test_read_response_keep_alive_rules_and_head_requests():
    head, body, keep = read_response(Pieces(b"HTTP/1.0 200 OK\r\nContent-Length: 9\r\n\r\n"), True)
    assert (head.status, body, keep) == (200, b"", False)  # HTTP/1.0 without keep-alive


def test_read_response_errors():
    with pytest.raises(HTTPParseError):
        read_response(Pieces(b"SSH-2.0-OpenSSH_9.6\r\n\r\n"), False)
    with pytest.raises(ConnectionClosed):
        read_response(Pieces(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort"), False)


def test_basic_auth_form_encodes_before_base64():
    value = basic_auth("my client", "p:w&d")
    assert value == "Basic " + base64.b64encode(b"my+client:p%3Aw%26d").decode()
