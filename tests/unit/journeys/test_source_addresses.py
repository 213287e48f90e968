"""Each person's connections come from one source address, round-robin."""

from __future__ import annotations

import socket
import threading

from authsurge.journeys.client import Connection, HttpSettings


def test_people_take_the_addresses_in_turn() -> None:
    settings = HttpSettings(source_addresses=("127.0.0.2", "127.0.0.3", "127.0.0.4"))
    assert [settings.next_source() for _ in range(5)] == [
        "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.2", "127.0.0.3"]
    assert HttpSettings().next_source() is None


def test_a_connection_comes_from_its_source_address() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    seen = []

    def answer() -> None:
        peer, (address, _) = server.accept()
        with peer:
            seen.append(address)
            peer.recv(65536)
            peer.sendall(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")

    answering = threading.Thread(target=answer)
    answering.start()
    conn = Connection("http", "127.0.0.1", server.getsockname()[1], HttpSettings(), "127.0.0.7")
    try:
        head, _ = conn.request(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n", None)
        answering.join(timeout=5)
    finally:
        conn.close()
        server.close()
    assert seen == ["127.0.0.7"] and head.status == 204
