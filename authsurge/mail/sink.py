"""`MailSink`: a local mail provider for a run: an SMTP server the target sends to and an
HTTP API the journeys read mailboxes from, both on 127.0.0.1.

    with MailSink(SinkBehaviour(delay_s=2.0, drop_share=0.01)) as sink:
        # point the target's EMAIL_HOST/EMAIL_PORT at 127.0.0.1:sink.smtp_port
        # give the journeys sink.http_url (authsurge.mail.MailboxClient)
        ...
    sink.counters()  # {"received": ..., "delivered": ..., "dropped": ..., "rejected": ...}

The servers (authsurge/mail/server.py) run in a child process, `python -m authsurge.mail`,
not in threads of the caller: the run's process is monkey-patched by gevent, where
aiosmtpd's asyncio loop would run in a greenlet and be every greenlet's running loop
(server.py says more). A child also keeps the sink's work off the load generator's
interpreter, whose timing the run measures. The child stops when its stdin closes:
stop(), or the parent's death however it happens, so a sink never outlives its run.
"""

from __future__ import annotations

import json
import select
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

from authsurge.errors import BadInput
from authsurge.mail.behaviour import SinkBehaviour
from authsurge.mail.client import MailboxClient, MailSinkError
from authsurge.mail.server import COUNTERS, HOST

START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 10.0
# the directory that holds the authsurge package, for a child started from any directory
PACKAGE_ROOT = Path(__file__).resolve().parents[2]


class MailSink:
    """The mail sink of a run: start() it, point the target at smtp_port, the journeys at
    http_url, stop() it (or use it as a context manager).

    Ports 0 (the default) pick free ones. start() and stop() are idempotent; stop()
    returns once the child has exited, so both ports are free, and keeps its counters.
    """

    def __init__(
        self,
        behaviour: SinkBehaviour | None = None,
        *,
        smtp_port: int = 0,
        http_port: int = 0,
    ) -> None:
        self.behaviour = behaviour or SinkBehaviour()
        self._requested = (smtp_port, http_port)
        self._proc: subprocess.Popen[bytes] | None = None
        self._ports: tuple[int, int] | None = None
        self._final = dict.fromkeys(COUNTERS, 0)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def smtp_port(self) -> int:
        """The SMTP port the target sends to (only while running)."""
        return self._bound()[0]

    @property
    def http_url(self) -> str:
        """The base URL of the mailbox API, e.g. http://127.0.0.1:40123 (only while running)."""
        return f"http://{HOST}:{self._bound()[1]}"

    def counters(self) -> dict[str, int]:
        """Mails received, delivered, dropped and rejected (for meta.json): asked of the
        running sink, or as they were when it stopped."""
        if self._proc is None:
            return dict(self._final)
        return MailboxClient(self.http_url).counters()

    def start(self) -> MailSink:
        """Start the child and wait until both ports listen; BadInput when a given port is
        in use, MailSinkError when the child does not start."""
        if self._proc is not None:
            return self
        smtp_port, http_port = self._requested
        command = [
            sys.executable, "-m", "authsurge.mail",
            "--smtp-port", str(smtp_port),
            "--http-port", str(http_port),
            "--behaviour", json.dumps(asdict(self.behaviour)),
        ]  # fmt: skip
        self._proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=PACKAGE_ROOT,  # `-m authsurge.mail` finds the package it was started from
            bufsize=0,  # the first line is read byte by byte: nothing else is consumed
        )
        try:
            assert self._proc.stdout is not None
            ready = _read_line(self._proc.stdout, START_TIMEOUT_S)
            if "error" in ready:
                if ready.get("bad_input"):
                    raise BadInput(str(ready["error"]))
                raise MailSinkError(f"mail sink did not start: {ready['error']}")
            self._ports = (int(ready["smtp_port"]), int(ready["http_port"]))
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the child and wait for it, so both ports are free (at any time, twice)."""
        proc, self._proc = self._proc, None
        self._ports = None
        if proc is None:
            return
        try:
            out, _ = proc.communicate(timeout=STOP_TIMEOUT_S)  # closes stdin: the signal
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        for line in reversed(out.decode("utf-8", errors="replace").splitlines()):
            final = _json(line)
            if isinstance(final.get("counters"), dict):
                self._final = {k: int(v) for k, v in final["counters"].items()}
                break

    def __enter__(self) -> MailSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _bound(self) -> tuple[int, int]:
        if self._ports is None:
            raise RuntimeError("the mail sink is not running: start() it first")
        return self._ports


def _read_line(stream: IO[bytes], timeout_s: float) -> dict[str, Any]:
    """The child's first JSON line on `stream`, within timeout_s."""
    deadline = time.monotonic() + timeout_s
    line = b""
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([stream], [], [], left)[0]:
            raise MailSinkError(f"mail sink did not start within {timeout_s:g} s")
        byte = stream.read(1)
        if not byte:
            raise MailSinkError("mail sink exited before it started (see its stderr)")
        line += byte
    message = _json(line.decode("utf-8", errors="replace"))
    if not message:
        raise MailSinkError("mail sink started with an unreadable answer")
    return message


def _json(line: str) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
