"""The sink's HTTP API: every load worker, in any process or on any host that can reach
the sink's loopback port (through a tunnel, say), reads the same mailboxes.

    GET  /mail/<recipient>?after=<epoch s>       200, JSON list of the visible mails to
                                                 <recipient> received at or after `after`
                                                 (default 0), first visible first; kept
    POST /mail/<recipient>/take?after=<epoch s>  200, JSON object: the first of those,
                                                 removed from the mailbox (so the next
                                                 take gets the next mail); 204 when none
    GET  /counters                               200, JSON {"received", "delivered",
                                                 "dropped", "rejected"}

<recipient> is percent-encoded (`urllib.parse.quote(address, safe="")`) and matched
lower-cased. A mail is {"recipient", "sender", "subject", "body", "received_at",
"visible_at"} (times in epoch seconds of the sink's clock). Bad `after`: 400; any other
path: 404. Answers hold mail bodies, so the server logs request lines at DEBUG only and
never a body.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from authsurge.mail.store import Held, Mailboxes

log = logging.getLogger(__name__)


class MailboxServer(ThreadingHTTPServer):
    """A threading HTTP server over one `Mailboxes`, on (host, port) (port 0: any free)."""

    daemon_threads = True
    allow_reuse_address = True
    # the default backlog of 5 refuses connections when hundreds of journeys poll at once
    request_queue_size = 512

    def __init__(
        self,
        address: tuple[str, int],
        mailboxes: Mailboxes,
        counters: Callable[[], dict[str, int]],
    ) -> None:
        self.mailboxes = mailboxes
        self.counters = counters
        super().__init__(address, MailboxHandler)


class MailboxHandler(BaseHTTPRequestHandler):
    server: MailboxServer
    server_version = "authsurge-mail-sink"
    disable_nagle_algorithm = True  # headers and body are two writes

    def do_GET(self) -> None:
        parts, after = self._route()
        if parts == ["counters"]:
            self._send_json(HTTPStatus.OK, self.server.counters())
        elif len(parts) == 2 and parts[0] == "mail" and after is not None:
            held = self.server.mailboxes.visible(unquote(parts[1]), after=after)
            self._send_json(HTTPStatus.OK, [held_json(h) for h in held])
        elif after is None:
            self._send_json(HTTPStatus.BAD_REQUEST, {"error": "after must be epoch seconds"})
        else:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": "no such path"})

    def do_POST(self) -> None:
        parts, after = self._route()
        if len(parts) == 3 and parts[0] == "mail" and parts[2] == "take" and after is not None:
            taken = self.server.mailboxes.take(unquote(parts[1]), after=after)
            if taken is None:
                self.send_response(HTTPStatus.NO_CONTENT)
                self.end_headers()
            else:
                self._send_json(HTTPStatus.OK, held_json(taken))
        elif after is None:
            self._send_json(HTTPStatus.BAD_REQUEST, {"error": "after must be epoch seconds"})
        else:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": "no such path"})

    def _route(self) -> tuple[list[str], float | None]:
        """The path's segments (still percent-encoded) and `after` (None when invalid)."""
        url = urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p]
        values = parse_qs(url.query).get("after", ["0"])
        try:
            after = float(values[-1])
        except ValueError:
            return parts, None
        return parts, after if math.isfinite(after) else None

    def _send_json(self, status: HTTPStatus, payload: Any) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        # the request line names a recipient, never a body; stderr is not for it
        log.debug("mail sink http: " + format, *args)


def held_json(held: Held) -> dict[str, Any]:
    """A held mail as the API sends it."""
    return {**held.mail.as_dict(), "visible_at": held.visible_at}
