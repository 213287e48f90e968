"""Stopping a process tree we started (the gunicorn pools, the proxy): SIGTERM to its
root, a bounded wait, then SIGKILL for whatever is left; never by name, only by PID."""

from __future__ import annotations

import contextlib
import logging
import signal
import subprocess
import time

import psutil

logger = logging.getLogger(__name__)


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _wait_gone(
    procs: list[psutil.Process], popen: subprocess.Popen[bytes] | None, timeout_s: float
) -> list[psutil.Process]:
    """Wait until the processes exit (zombies count as gone); returns the survivors."""
    deadline = time.monotonic() + timeout_s
    while True:
        if popen is not None:
            popen.poll()  # reap our own child so it does not linger as a zombie
        left = [p for p in procs if alive(p.pid) and _same(p)]
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.05)


def _same(proc: psutil.Process) -> bool:
    try:
        return proc.is_running()  # False when the PID now belongs to another process
    except psutil.Error:
        return False


def terminate(pid: int, popen: subprocess.Popen[bytes] | None, timeout_s: float) -> None:
    try:
        master = psutil.Process(pid)
        tree = [master, *master.children(recursive=True)]
    except psutil.Error:
        if popen is not None:
            popen.poll()
        return
    # gunicorn's SIGTERM is a graceful stop: workers finish in-flight requests
    with contextlib.suppress(psutil.Error):
        master.send_signal(signal.SIGTERM)
    survivors = _wait_gone(tree, popen, timeout_s)
    for proc in survivors:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    if survivors:
        logger.warning(
            "PID %s did not stop within %.0f s; killed %d process(es)",
            pid,
            timeout_s,
            len(survivors),
        )
        survivors = _wait_gone(survivors, popen, 5.0)
    if popen is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(timeout=1.0)
