"""Is a started target up: /healthz (verified over HTTPS against the served certificate),
the wait for it after a start, and the log tail that says why not."""

from __future__ import annotations

import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Protocol

from authsurge.errors import TargetUnreachable
from authsurge.target.layout import LOG_FILE
from authsurge.target.options import url_host


class Started(Protocol):
    """What waiting needs of the target being started (process.TargetProcess)."""

    host: str
    data_dir: Path
    certfile: Path | None


def healthz(base_url: str, timeout: float, certfile: str | Path | None = None) -> bool:
    try:
        context = pinned_context(certfile) if base_url.startswith("https:") else None
        with urllib.request.urlopen(
            f"{base_url}/healthz",
            timeout=timeout,  # noqa: S310 - loopback
            context=context,
        ) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def pinned_context(certfile: str | Path | None) -> ssl.SSLContext:
    """Verify /healthz over HTTPS against the served certificate itself (and any CA in its
    chain file): only our own gunicorn can answer, and verification stays on."""
    context = ssl.create_default_context(cafile=str(certfile) if certfile else None)
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN  # a leaf may be its own trust anchor
    return context


def wait_healthy(
    target: Started,
    popen: subprocess.Popen[bytes],
    timeout_s: float,
    *,
    port: int,
    log: str = LOG_FILE,
) -> None:
    """Wait for /healthz on `port` (a pool's own port, or the proxy's public one)."""
    scheme = "https" if target.certfile is not None else "http"
    url = f"{scheme}://{url_host(target.host)}:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            raise TargetUnreachable(
                f"{popen.args[0] if isinstance(popen.args, list) else 'the target'} exited with "
                f"status {popen.returncode} while starting; its log ({target.data_dir / log}) "
                f"ends with:\n{log_tail(target.data_dir, log=log)}"
            )
        if healthz(url, timeout=1.0, certfile=target.certfile):
            return
        time.sleep(0.1)
    raise TargetUnreachable(
        f"the target did not answer {url}/healthz within {timeout_s:.0f} s; "
        f"its log ends with:\n{log_tail(target.data_dir, log=log)}"
    )


def log_tail(data_dir: Path, lines: int = 15, log: str = LOG_FILE) -> str:
    try:
        return "\n".join((data_dir / log).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
