"""`SinkServer`: the sink's SMTP server and mailbox HTTP API, in threads of the process
that starts it. `MailSink` runs it in a child process (`python -m authsurge.mail`); use
it directly only in a process that gevent has not monkey-patched.

Why not in the run's own process: under gevent's patching a "thread" is a greenlet of
the main thread, and aiosmtpd's asyncio loop running in one is *the* running loop of the
whole thread: every greenlet then sees `asyncio.get_running_loop()` succeed (Django's
async-unsafe checks fire, `asyncio.run` fails) and a second sink cannot start.

Counters are per mail (one SMTP transaction): received = delivered + dropped + rejected.
A delivered mail counts when it is put in its mailbox, even while its delay keeps it
invisible. The SMTP server offers neither AUTH nor STARTTLS: a target must send without
credentials or TLS.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import random
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace

from aiosmtpd.smtp import SMTP, Envelope, Session

from authsurge.errors import BadInput
from authsurge.mail.behaviour import Fate, SinkBehaviour
from authsurge.mail.http_api import MailboxServer
from authsurge.mail.message import Mail, parse_mail
from authsurge.mail.store import Mailboxes

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
START_TIMEOUT_S = 10.0
COUNTERS = ("received", "delivered", "dropped", "rejected")
COUNTED_AS = {Fate.DELIVER: "delivered", Fate.DROP: "dropped", Fate.REJECT: "rejected"}
REPLIES = {
    421: "421 4.3.2 authsurge mail sink: service not available, closing channel (simulated)",
    451: "451 4.3.0 authsurge mail sink: temporary failure, try again later (simulated)",
}


class SinkServer:
    """An SMTP server and a mailbox HTTP API on 127.0.0.1 that imitate `behaviour`.

    Ports 0 (the default) pick free ones. start() and stop() are idempotent; stop()
    frees both ports whatever happened before, and the mailboxes and counters outlive it.
    """

    def __init__(
        self,
        behaviour: SinkBehaviour | None = None,
        *,
        smtp_port: int = 0,
        http_port: int = 0,
    ) -> None:
        self.behaviour = behaviour or SinkBehaviour()
        self.mailboxes = Mailboxes()
        self._requested = (smtp_port, http_port)
        self._rng = random.Random(self.behaviour.seed)
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(COUNTERS, 0)
        self._smtp: _SmtpThread | None = None
        self._http: MailboxServer | None = None
        self._http_thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._smtp is not None

    @property
    def smtp_port(self) -> int:
        """The SMTP port the target sends to (only while running)."""
        if self._smtp is None:
            raise RuntimeError("the mail sink is not running: start() it first")
        return self._smtp.port

    @property
    def http_port(self) -> int:
        """The mailbox API's port (only while running)."""
        if self._http is None:
            raise RuntimeError("the mail sink is not running: start() it first")
        return int(self._http.server_address[1])

    @property
    def http_url(self) -> str:
        """The base URL of the mailbox API, e.g. http://127.0.0.1:40123 (only while running)."""
        if self._http is None:
            raise RuntimeError("the mail sink is not running: start() it first")
        return f"http://{HOST}:{self.http_port}"

    @property
    def counters(self) -> dict[str, int]:
        """Mails received, delivered, dropped and rejected so far (a copy, for meta.json)."""
        with self._lock:
            return dict(self._counts)

    def start(self) -> SinkServer:
        """Bind both ports and serve; BadInput when a given port is in use."""
        if self._smtp is not None:
            return self
        if _gevent_patched():
            raise RuntimeError(
                "SinkServer cannot run in a gevent-patched process (its asyncio loop would be "
                "every greenlet's running loop): use authsurge.mail.MailSink"
            )
        _hide_mail_content_in_aiosmtpd_logs()
        smtp_port, http_port = self._requested
        try:
            smtp = _SmtpThread(_listen("SMTP", smtp_port), _Handler(self._receive))
            self._smtp = smtp  # from here on stop() closes it, whatever fails next
            smtp.start()
            self._http = _bind_http(http_port, self.mailboxes, lambda: self.counters)
            self._http_thread = threading.Thread(
                target=self._http.serve_forever,
                kwargs={"poll_interval": 0.05},  # how long stop() waits at most
                name="authsurge-mail-http",
                daemon=True,
            )
            self._http_thread.start()
        except BaseException:
            self.stop()
            raise
        log.info("mail sink: SMTP on %s:%d, mailboxes at %s", HOST, smtp.port, self.http_url)
        return self

    def stop(self) -> None:
        """Stop both servers and free their ports (safe to call at any time, twice)."""
        smtp, self._smtp = self._smtp, None
        http, self._http = self._http, None
        thread, self._http_thread = self._http_thread, None
        try:
            if http is not None:
                if thread is not None:
                    http.shutdown()  # returns once serve_forever has
                    thread.join(START_TIMEOUT_S)
                http.server_close()
        finally:
            if smtp is not None:
                smtp.stop()

    def __enter__(self) -> SinkServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _receive(self, sender: str, recipients: list[str], raw: bytes) -> str:
        """The SMTP answer to one mail at the end of DATA; delivers it unless its fate
        says otherwise."""
        received_at = time.time()
        with self._lock:
            fate = self.behaviour.fate(self._rng.random())
            delay = self.behaviour.delay(self._rng.random()) if fate is Fate.DELIVER else 0.0
            self._counts["received"] += 1
            self._counts[COUNTED_AS[fate]] += 1
        if fate is Fate.REJECT:
            return REPLIES[self.behaviour.reject_code]
        if fate is Fate.DELIVER:
            mail = _parse(raw, sender, recipients, received_at)
            for recipient in recipients:
                self.mailboxes.deliver(
                    replace(mail, recipient=recipient.lower()), received_at + delay
                )
        return "250 2.0.0 OK: queued"


def _parse(raw: bytes, sender: str, recipients: list[str], received_at: float) -> Mail:
    first = recipients[0] if recipients else ""
    try:
        return parse_mail(raw, recipient=first, sender=sender, received_at=received_at)
    except Exception as exc:  # the email package is lenient; delivered empty rather than lost
        log.warning(
            "mail sink: a mail to %s could not be read (%s); delivered without text",
            first,
            type(exc).__name__,
        )
        return Mail(recipient=first, sender=sender, subject="", body="", received_at=received_at)


class _Handler:
    """aiosmtpd's handler: hands each mail to the sink at the end of DATA."""

    def __init__(self, receive: Callable[[str, list[str], bytes], str]) -> None:
        self.receive = receive

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        return self.receive(envelope.mail_from or "", list(envelope.rcpt_tos), raw)


class _SmtpThread:
    """aiosmtpd's SMTP on an already bound socket, in an asyncio loop of its own thread.

    Binding first (rather than aiosmtpd's Controller binding in its thread) makes port 0
    work and a port in use fail in start() with a clear error.
    """

    def __init__(self, sock: socket.socket, handler: _Handler) -> None:
        self.sock = sock
        self.port = int(sock.getsockname()[1])
        self.handler = handler
        self.loop = asyncio.new_event_loop()
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def start(self) -> None:
        ready = threading.Event()
        self.thread = threading.Thread(
            target=self._run, args=(ready,), name="authsurge-mail-smtp", daemon=True
        )
        self.thread.start()
        if not ready.wait(START_TIMEOUT_S):
            raise RuntimeError(f"the mail sink's SMTP server did not start in {START_TIMEOUT_S} s")
        if self.error is not None:
            raise RuntimeError(f"the mail sink's SMTP server did not start: {self.error!r}")

    def _run(self, ready: threading.Event) -> None:
        loop = self.loop
        asyncio.set_event_loop(loop)
        try:
            server = loop.run_until_complete(loop.create_server(self._protocol, sock=self.sock))
        except BaseException as exc:  # reported by start(), in the caller's thread
            self.error = exc
            loop.close()
            return
        finally:
            ready.set()
        try:
            loop.run_forever()
        finally:
            server.close()
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.run_until_complete(server.wait_closed())
            loop.close()

    def _protocol(self) -> SMTP:
        # a fixed hostname: the default is socket.getfqdn(), a DNS lookup per connection
        return SMTP(self.handler, hostname="authsurge-mail-sink", loop=self.loop)

    def stop(self) -> None:
        thread, self.thread = self.thread, None
        if thread is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.loop.stop)
            thread.join(START_TIMEOUT_S)
        elif not self.loop.is_closed():
            self.loop.close()
        self.sock.close()  # already closed by the server unless the loop never took it


def _listen(what: str, port: int) -> socket.socket:
    # proto IPPROTO_TCP, not create_server's 0: asyncio sets TCP_NODELAY only on sockets
    # that say so, and without it each multi-line EHLO answer stalls 40 ms (Nagle and a
    # delayed ACK), added to the target's request that sends the mail
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port))
        sock.listen(512)
    except OSError as exc:
        sock.close()
        raise _port_error(what, port, exc) from None
    return sock


def _bind_http(
    port: int, mailboxes: Mailboxes, counters: Callable[[], dict[str, int]]
) -> MailboxServer:
    try:
        return MailboxServer((HOST, port), mailboxes, counters)
    except OSError as exc:
        raise _port_error("HTTP", port, exc) from None


def _port_error(what: str, port: int, exc: OSError) -> BadInput:
    if exc.errno == errno.EADDRINUSE:
        return BadInput(
            f"mail sink: {what} port {port} on {HOST} is already in use; pick another "
            "port (0 picks a free one)"
        )
    return BadInput(f"mail sink: cannot listen for {what} on {HOST}:{port}: {exc.strerror}")


class _HideMailContent(logging.Filter):
    """Drops aiosmtpd's DEBUG records: they repeat every line of DATA, i.e. mail bodies."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


def _hide_mail_content_in_aiosmtpd_logs() -> None:
    logger = logging.getLogger("mail.log")  # aiosmtpd's logger
    if not any(isinstance(f, _HideMailContent) for f in logger.filters):
        logger.addFilter(_HideMailContent())


def _gevent_patched() -> bool:
    monkey = sys.modules.get("gevent.monkey")
    return bool(monkey is not None and monkey.is_module_patched("threading"))
