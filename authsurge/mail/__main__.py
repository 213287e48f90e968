"""The sink's child process: `python -m authsurge.mail` serves until its stdin closes.

MailSink starts it and talks to it in JSON lines on stdout: first
{"smtp_port": ..., "http_port": ...} once both ports listen (or {"error": ...,
"bad_input": ...} and exit 2), then, after stdin closes, {"counters": {...}} once both
ports are free. Stdin closing is the stop signal, so the child also ends when its parent
dies however it dies. Ctrl-C is ignored here: the parent stops the sink after it, and
still gets the counters.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from typing import Any

from authsurge.errors import BadInput
from authsurge.mail.behaviour import SinkBehaviour
from authsurge.mail.server import SinkServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m authsurge.mail", description=__doc__)
    parser.add_argument("--smtp-port", type=int, default=0)
    parser.add_argument("--http-port", type=int, default=0)
    parser.add_argument("--behaviour", default="{}", help="SinkBehaviour's fields as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="mail sink: %(levelname)s %(message)s")
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit)
    try:
        behaviour = SinkBehaviour(**json.loads(args.behaviour))
        server = SinkServer(behaviour, smtp_port=args.smtp_port, http_port=args.http_port)
        server.start()
    except (BadInput, ValueError, TypeError) as exc:
        _say({"error": str(exc), "bad_input": True})
        return 2
    except Exception as exc:
        _say({"error": f"{type(exc).__name__}: {exc}", "bad_input": False})
        return 3
    try:
        _say({"smtp_port": server.smtp_port, "http_port": server.http_port})
        sys.stdin.buffer.read()  # until the parent closes it, or dies
    except (SystemExit, BrokenPipeError, OSError):
        pass
    finally:
        server.stop()
    try:
        _say({"counters": server.counters})
    except OSError:  # the parent is gone
        pass
    return 0


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _exit(signum: int, frame: object) -> None:
    raise SystemExit(0)


if __name__ == "__main__":
    sys.exit(main())
