"""Each request gets the whole timeout_s, however many requests the person made before.

Regression: one libev timer re-armed per request (start/stop) keeps its first deadline, so
a person's requests shared one timeout_s between them and a journey longer than timeout_s
timed out on a healthy server.
"""

from __future__ import annotations  # noqa: I001 - gevent sorts first: it patches before ssl

from gevent.server import StreamServer

import gevent

from authsurge.journeys import HttpClient, HttpSettings
from authsurge.journeys.reporting import Reporter

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def slow(sock, _addr) -> None:
    try:
        for _ in range(10):  # bounded: 10 requests per connection
            if not sock.recv(65536):
                return
            gevent.sleep(0.15)
            sock.sendall(ANSWER)
    finally:
        sock.close()


def test_a_persons_requests_each_get_the_full_timeout():
    server = StreamServer(("127.0.0.1", 0), slow)
    server.start()
    events: list[dict] = []
    http = HttpClient(HttpSettings(timeout_s=0.5), Reporter(lambda **kw: events.append(kw), {}))
    try:
        url = f"http://127.0.0.1:{server.server_port}/slow"
        for _ in range(6):  # 6 x 0.15 s = 0.9 s in requests: more than one timeout_s
            http.ok(http.request("t.slow", "GET", url))
    finally:
        http.close()
        server.stop(timeout=1)
    assert [e["context"]["outcome"] for e in events] == ["ok"] * 6
