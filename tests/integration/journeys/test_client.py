"""The journeys' HTTP client, its wire format and cookie jar against a scripted server
(gevent, 127.0.0.1)."""

from __future__ import annotations  # noqa: I001 - gevent sorts first: it patches before ssl

from gevent.server import StreamServer

import gevent

import logging
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from authsurge.rundir import records as record
from authsurge.journeys import HttpClient, HttpSettings, StepFailed
from authsurge.journeys import cookies as cookies_module
from authsurge.journeys.cookies import CookieJar
from authsurge.journeys.reporting import Reporter
from authsurge.scenario import TargetConfig

# path -> raw response bytes (None: close without answering; "hang": never answer)
SCRIPT: dict[str, bytes | str | None] = {
    "/chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
    "/until-close": b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it",
    "/continue": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "/folded": b"HTTP/1.1 302 Found\r\nLocation: /next\r\nX-Long: a\r\n  b\r\nContent-Length: 0\r\n\r\n",
    "/relative": b"HTTP/1.1 302 Found\r\nLocation: ../up/there?q=a b\r\nContent-Length: 0\r\n\r\n",
    "/garbage": b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
    "/drop": None,
    "/hang": "hang",
    "/cookies": b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
                b"Set-Cookie: a=1; Path=/\r\nSet-Cookie: scoped=2; Path=/app\r\n"
                b"Set-Cookie: gone=3; Max-Age=0\r\nSet-Cookie: old=4; Expires=Thu, 01 Jan 1970 00:00:00 GMT\r\n"
                b"Set-Cookie: other=5; Domain=example.org\r\n\r\n",
    "/secure": b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nSet-Cookie: sid=s; Secure; HttpOnly\r\n\r\n",
    "/echo": b"",  # answers with the request head as the body
}


class Scripted:
    def __init__(self) -> None:
        self.connections = 0
        self.heads: list[bytes] = []
        self.server = StreamServer(("127.0.0.1", 0), self.handle)

    def handle(self, sock, _addr) -> None:
        self.connections += 1
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    data = sock.recv(65536)
                    if not data:
                        return
                    buf += data
                head, _, buf = buf.partition(b"\r\n\r\n")
                self.heads.append(head)
                if b"content-length:" in head.lower():
                    n = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                    while len(buf) < n:
                        buf += sock.recv(65536)
                    buf = buf[n:]
                path = head.split(b" ")[1].decode().split("?")[0]
                answer = SCRIPT.get(path, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                if answer == "hang":
                    gevent.sleep(5)
                    return
                if answer is None:
                    return
                if path == "/echo":
                    answer = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(head), head)
                sock.sendall(answer)
                if b"Connection: close" in answer:
                    return
        finally:
            sock.close()


@pytest.fixture()
def server() -> Iterator[Scripted]:
    scripted = Scripted()
    scripted.server.start()
    try:
        yield scripted
    finally:
        scripted.server.stop(timeout=1)


@pytest.fixture()
def client(server) -> Iterator[tuple[HttpClient, list[dict]]]:
    events: list[dict] = []
    reporter = Reporter(lambda **kw: events.append(kw), {"journey": "t"})
    http = HttpClient(HttpSettings(timeout_s=0.5), reporter)
    http.base = f"http://127.0.0.1:{server.server.server_port}"  # type: ignore[attr-defined]
    try:
        yield http, events
    finally:
        http.close()


def get(http: HttpClient, path: str, **kw):
    return http.request("t.step", "GET", http.base + path, **kw)  # type: ignore[attr-defined]


def test_chunked_body_with_extensions_and_trailers(client):
    http, _ = client
    assert get(http, "/chunked").body == b"hello world"


def test_body_delimited_by_close_and_a_fresh_connection_after(client, server):
    http, _ = client
    assert get(http, "/until-close").body == b"all of it"
    assert get(http, "/chunked").status == 200
    assert server.connections == 2


def test_keep_alive_reuses_one_connection_per_person(client, server):
    http, _ = client
    for _ in range(3):
        get(http, "/chunked")
    assert server.connections == 1


def test_interim_100_continue_is_skipped(client):
    http, _ = client
    resp = get(http, "/continue")
    assert (resp.status, resp.body) == (200, b"ok")


def test_folded_header_lines_and_relative_locations(client):
    http, _ = client
    resp = get(http, "/folded")
    assert resp.headers["x-long"] == "a b"
    assert resp.location == http.base + "/next"
    resp = get(http, "/relative")
    assert resp.location == http.base + "/up/there?q=a%20b"  # a raw space, encoded as browsers do


def test_garbage_instead_of_http_is_an_invalid_response(client):
    http, events = client
    with pytest.raises(StepFailed) as failed:
        get(http, "/garbage")
    assert (failed.value.outcome, failed.value.reason) == (
        record.INVALID_RESPONSE, "malformed HTTP response on GET /garbage")
    assert events[-1]["context"]["status"] == 0


def test_a_connection_closed_without_an_answer(client):
    http, _ = client
    with pytest.raises(StepFailed) as failed:
        get(http, "/drop")
    assert (failed.value.outcome, failed.value.reason) == (
        record.CONNECTION, "connection closed without a response on GET /drop")


def test_a_silent_server_is_a_timeout_within_the_bound(client):
    http, events = client
    with pytest.raises(StepFailed) as failed:
        get(http, "/hang")
    assert (failed.value.outcome, failed.value.reason) == (record.TIMEOUT, "timeout after 0.5 s on GET /hang")
    assert 450 < events[-1]["response_time"] < 1500


def test_header_injection_is_refused_before_sending(client, server):
    http, _ = client
    with pytest.raises(StepFailed) as failed:
        get(http, "/echo", headers={"X-Evil": "a\r\nX-Injected: 1"})
    assert failed.value.outcome == record.UNEXPECTED_PAGE
    assert server.heads == []


def test_every_request_is_reported_once_even_when_the_caller_forgets(client):
    http, events = client
    get(http, "/chunked")  # never judged by the caller
    get(http, "/echo")
    http.close()
    assert [e["context"]["outcome"] for e in events] == ["ok", "ok"]


def test_cookies_by_path_domain_and_expiry(client):
    http, _ = client
    get(http, "/cookies")
    assert http.jar.names() == {"a", "scoped"}  # Max-Age=0 / past Expires delete; other domains refused
    head = get(http, "/echo").body.decode()
    assert "Cookie: a=1\r" in head + "\r"
    jar = CookieJar()
    jar.set_cookie("s=1; Path=/app", "http", "127.0.0.1", "/")
    jar.set_cookie("r=2", "http", "127.0.0.1", "/app/page")  # default path: /app
    assert jar.header("http", "127.0.0.1", "/app/x") == "s=1; r=2"
    assert jar.header("http", "127.0.0.1", "/application") is None
    assert jar.header("http", "localhost", "/app/x") is None  # host-only


def test_secure_cookie_over_plain_http_is_dropped_with_one_warning(client, caplog, monkeypatch):
    http, _ = client
    monkeypatch.setattr(cookies_module, "_secure_warned", False)
    with caplog.at_level(logging.WARNING, logger="authsurge.journeys.client"):
        get(http, "/secure")
        get(http, "/secure")
    assert "sid" not in http.jar.names()
    warnings = [r for r in caplog.records if "Secure flag over plain http" in r.getMessage()]
    assert len(warnings) == 1
    assert "'sid'" in warnings[0].getMessage() and "=s" not in warnings[0].getMessage()


# --- TLS --------------------------------------------------------------------------------


def _self_signed(tmp_path):
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "authsurge test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@pytest.fixture()
def tls_server(tmp_path) -> Iterator[tuple[Scripted, Path]]:
    cert, key = _self_signed(tmp_path)
    scripted = Scripted()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    scripted.server = StreamServer(("127.0.0.1", 0), scripted.handle, ssl_context=context)
    scripted.server.start()
    try:
        yield scripted, cert
    finally:
        scripted.server.stop(timeout=1)


def _tls_get(settings: HttpSettings, port: int):
    events: list[dict] = []
    with HttpClient(settings, Reporter(lambda **kw: events.append(kw), {})) as http:
        return http.request("t.step", "GET", f"https://127.0.0.1:{port}/chunked")


def test_tls_certificates_are_checked_by_default(tls_server):
    server, _ = tls_server
    with pytest.raises(StepFailed) as failed:
        _tls_get(HttpSettings(timeout_s=2), server.server.server_port)
    assert failed.value.outcome == record.CONNECTION
    assert failed.value.reason == "TLS error on GET /chunked: CERTIFICATE_VERIFY_FAILED"


def test_tls_ca_bundle_from_the_target_config(tls_server, tmp_path):
    server, cert = tls_server
    port = server.server.server_port
    target = TargetConfig(base_url=f"https://127.0.0.1:{port}", ca_bundle=cert.name, timeout_s=2)
    settings = HttpSettings.from_target(target, base_dir=cert.parent)
    assert _tls_get(settings, port).body == b"hello world"


def test_insecure_tls_works_and_says_so_loudly(tls_server, caplog):
    server, _ = tls_server
    port = server.server.server_port
    with caplog.at_level(logging.WARNING):
        settings = HttpSettings.from_target(TargetConfig(base_url=f"https://127.0.0.1:{port}", insecure=True))
    assert "TLS CERTIFICATE CHECKS ARE OFF" in caplog.text
    assert _tls_get(settings, port).status == 200
