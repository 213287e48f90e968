"""The fault injector: a TCP proxy on 127.0.0.1 that misbehaves during a time window.

Each connection gets the behaviour in force when it is *accepted* (the harness opens new
connections for every person, so a fault window shows on the timeline as the journeys that
started in it):

- ``pass``: bytes both ways to the upstream (the real target);
- ``reset``: read the request, then close with RST (SO_LINGER 0);
- ``stall``: accept, read, never answer (until the client gives up);
- ``respond``: answer every request on the connection with canned bytes (an HTML page
  with 200 where JSON is expected, a page without a login form, or bytes that are not HTTP).

Without an upstream the proxy is a stub server that applies the fault all the time.
Everything is bounded: sockets time out, held connections are closed at `stop()`, and the
threads (greenlets in a gevent-patched test process) end with it.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterator

HOLD_S = 30.0  # the longest a stalled or idle connection is kept
_HEAD_END = b"\r\n\r\n"


def html_response(body: str, status: str = "200 OK") -> bytes:
    data = body.encode()
    return (f"HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n"
            f"Content-Length: {len(data)}\r\n\r\n").encode() + data


MAINTENANCE_PAGE = html_response("<!doctype html><html><body><h1>We'll be right back</h1>"
                                 "<p>Scheduled maintenance.</p></body></html>")
NO_FORM_PAGE = html_response("<!doctype html><html><body><h1>Sign in</h1>"
                             "<p>Sign in with your passkey.</p><button>Continue</button></body></html>")
NOT_HTTP = b"\x00\x01garbage, not HTTP at all\r\n\r\n"


class FaultProxy:
    def __init__(self, fault: str, upstream_port: int | None = None, response: bytes = MAINTENANCE_PAGE) -> None:
        if fault not in ("reset", "stall", "respond"):
            raise ValueError(fault)
        self.fault = fault
        self.upstream_port = upstream_port
        self.response = response
        self.window: tuple[float, float] = (0.0, float("inf")) if upstream_port is None else (0.0, 0.0)
        self.accepted: Counter[str] = Counter()  # connections by the mode they got
        self._stop = threading.Event()
        self._socks: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(128)
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fault_between(self, start: float, end: float) -> None:
        """Apply the fault to connections accepted in [start, end) (epoch s)."""
        self.window = (start, end)

    def mode_at(self, t: float) -> str:
        start, end = self.window
        return self.fault if start <= t < end else "pass"

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> FaultProxy:
        self._spawn(self._accept_loop)
        return self

    def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            socks = list(self._socks)
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.close()
        for thread in self._threads:
            thread.join(timeout=2)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- internals ----------------------------------------------------------------------
    def _spawn(self, fn, *args) -> None:  # type: ignore[no-untyped-def]
        thread = threading.Thread(target=fn, args=args, daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()]
        self._threads.append(thread)
        thread.start()

    @contextlib.contextmanager
    def _tracked(self, sock: socket.socket) -> Iterator[socket.socket]:
        with self._lock:
            self._socks.add(sock)
        try:
            yield sock
        finally:
            with self._lock:
                self._socks.discard(sock)
            with contextlib.suppress(OSError):
                sock.close()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            mode = self.mode_at(time.time())
            self.accepted[mode] += 1
            conn.settimeout(HOLD_S)
            self._spawn(getattr(self, f"_{mode}"), conn)

    def _reset(self, conn: socket.socket) -> None:
        with self._tracked(conn):
            with contextlib.suppress(OSError):
                conn.settimeout(2.0)
                conn.recv(65536)  # the request is on its way: the reset hits it in flight
            with contextlib.suppress(OSError):
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def _stall(self, conn: socket.socket) -> None:
        with self._tracked(conn):
            deadline = time.time() + HOLD_S
            while not self._stop.is_set() and time.time() < deadline:
                readable, _, _ = select.select([conn], [], [], 0.2)
                if readable:
                    try:
                        if not conn.recv(65536):
                            return  # the client gave up
                    except OSError:
                        return

    def _respond(self, conn: socket.socket) -> None:
        with self._tracked(conn):
            buf = b""
            deadline = time.time() + HOLD_S
            while not self._stop.is_set() and time.time() < deadline:
                end = buf.find(_HEAD_END)
                if end < 0:
                    try:
                        data = conn.recv(65536)
                    except OSError:
                        return
                    if not data:
                        return
                    buf += data
                    continue
                head = buf[:end].decode("latin-1").lower()
                length = 0
                for line in head.split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    if name.strip() == "content-length" and value.strip().isdigit():
                        length = int(value.strip())
                while len(buf) < end + 4 + length:
                    try:
                        data = conn.recv(65536)
                    except OSError:
                        return
                    if not data:
                        return
                    buf += data
                buf = buf[end + 4 + length:]
                try:
                    conn.sendall(self.response)
                except OSError:
                    return
                if not self.response.startswith(b"HTTP/1.1 "):
                    return  # not HTTP: nothing sensible can follow on this connection

    def _pass(self, conn: socket.socket) -> None:
        with self._tracked(conn):
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
            except OSError:
                return
            with self._tracked(upstream):
                pair = {conn: upstream, upstream: conn}
                idle_since = time.time()
                while not self._stop.is_set() and time.time() - idle_since < HOLD_S:
                    try:
                        readable, _, _ = select.select(list(pair), [], [], 0.2)
                    except (OSError, ValueError):
                        return
                    for sock in readable:
                        try:
                            data = sock.recv(65536)
                            if not data:
                                return
                            pair[sock].sendall(data)
                        except OSError:
                            return
                        idle_since = time.time()
