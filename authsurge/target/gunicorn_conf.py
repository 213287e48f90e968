"""gunicorn configuration (`gunicorn -c python:authsurge.target.gunicorn_conf`), read from
the AUTHSURGE_TARGET_* environment start_target sets."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from gunicorn.glogging import Logger

from authsurge.target.redaction import RedactSecretPaths, redact_path

_host = os.environ.get("AUTHSURGE_TARGET_HOST", "127.0.0.1")
_port = os.environ.get("AUTHSURGE_TARGET_PORT", "8000")

bind = [f"[{_host}]:{_port}" if ":" in _host else f"{_host}:{_port}"]
worker_class = "gthread"
workers = int(os.environ.get("AUTHSURGE_TARGET_WORKERS", "2"))
threads = int(os.environ.get("AUTHSURGE_TARGET_THREADS", "4"))
wsgi_app = "authsurge.target.wsgi:application"
# Load Django once in the master and fork: workers come up in a fraction of a second and
# share the imported code. Nothing opens a database connection at import time.
preload_app = True
# a log line per request costs more than some of the requests: only when asked for
# (TargetOptions.access_log), e.g. to see the client addresses target.source_addresses uses
accesslog = os.environ.get("AUTHSURGE_TARGET_ACCESS_LOG") or None
# the path without its query: a query can carry an id_token_hint or a code
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s'


class RedactingLogger(Logger):
    """gunicorn's logger with secret-bearing path segments (a confirmation link's key)
    redacted in the access log's path, and URLs (path and query: "Error handling request
    <uri>") in its error log (authsurge.target.redaction)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.addFilter(RedactSecretPaths())

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        atoms["U"] = redact_path(str(atoms.get("U", "")))
        return atoms


logger_class = RedactingLogger

errorlog = "-"
loglevel = "warning"
# "api": the split topology's API pool, which shares the auth pool's prepared data dir
_role = os.environ.get("AUTHSURGE_TARGET_ROLE", "auth")
proc_name = "authsurge-target-api" if _role == "api" else "authsurge-target"
graceful_timeout = 5  # in-flight requests finish (a capacity wait is at most Q/N s)
timeout = 60
keepalive = 5
if os.environ.get("AUTHSURGE_TARGET_CERTFILE"):  # HTTPS (TargetOptions.certfile/keyfile)
    certfile = os.environ["AUTHSURGE_TARGET_CERTFILE"]
    keyfile = os.environ["AUTHSURGE_TARGET_KEYFILE"]


def on_starting(server: Any) -> None:
    """Prepare the data dir (authsurge.target.prepare) before binding and forking; the
    API pool starts after the auth pool prepared it."""
    if _role == "api":
        return
    from django.conf import settings

    from authsurge.target import hash_cpu
    from authsurge.target.prepare import prepare_from_stdin

    prepare_from_stdin()
    # after the setup's own hashes (the users' passwords): those are not the load's
    hash_cpu.clear(Path(settings.AUTHSURGE_DATA_DIR))


def worker_exit(server: Any, worker: Any) -> None:
    """In the worker, as it exits: what its password hashes cost (authsurge.target.hash_cpu)."""
    from django.conf import settings

    from authsurge.target import hash_cpu

    hash_cpu.write(Path(settings.AUTHSURGE_DATA_DIR))


def when_ready(server: Any) -> None:
    """Stop with the process that started us when it dies without stopping us (a killed
    test run, a crashed harness), so no target outlives its owner. Off for
    `authsurge target serve` (detached), whose owner exits on purpose."""
    owner = int(os.environ.get("AUTHSURGE_TARGET_OWNER_PID", "0"))
    if not owner:
        return

    def watch() -> None:
        while os.getppid() == owner:
            time.sleep(0.5)
        server.log.warning("the process that started the target (PID %s) is gone; stopping", owner)
        if _role == "api":  # nginx has no owner watch of its own: the API pool stops it
            from django.conf import settings

            from authsurge.target.proxy import stop_proxy_of

            stop_proxy_of(Path(settings.AUTHSURGE_DATA_DIR))
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="owner-watch", daemon=True).start()
