"""When the harness itself fails: one line on stderr, the full traceback in a log file.

CI reads exit 1 as "a gate failed" (an SLO breached, compare found a regression), so an
unexpected exception must not leave the process as Python's traceback and exit 1. Every
entry point (`authsurge`, `python -m authsurge.target.cli`, `python -m authsurge.run.worker`)
runs its command through `run_command`, which maps an unexpected exception to exit 3
(ExitStatus.INTERNAL_ERROR), says in one line what failed and where the traceback went:
`authsurge-error.log` in the run directory when the command has one (next to the data
it explains), otherwise `authsurge-error-<pid>-<time>.log` in the temp dir.

The runner registers the run directory it creates (`set_run_dir`), so a crash of `run`
or `demo` after that point logs into it.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from authsurge.errors import AuthsurgeError, ExitStatus

RUN_DIR_LOG = "authsurge-error.log"

_run_dir: Path | None = None


def set_run_dir(path: Path | None) -> None:
    """Remember the run directory being written (None: forget it)."""
    global _run_dir
    _run_dir = None if path is None else Path(path)


def current_run_dir() -> Path | None:
    """The run directory registered by `set_run_dir`, if any."""
    return _run_dir


def write_traceback(exc: BaseException, command: str, run_dir: Path | None = None) -> Path | None:
    """Write exc's full traceback to a log file and return its path.

    Appends to RUN_DIR_LOG in run_dir when that is an existing directory, else writes a new
    file in the temp dir. Never raises: the caller is already handling a failure, and a
    second one would hide the first; None means no file could be written.
    """
    try:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        header = f"--- {stamp} pid {os.getpid()}: internal error in {command!r}\n"
        text = header + "".join(traceback.format_exception(exc)) + "\n"
    except Exception:  # a broken __str__ etc.: still leave a trace of what happened
        text = f"--- internal error in {command!r}: {type(exc).__name__} (traceback unavailable)\n"
    for path in _log_paths(run_dir):
        try:
            with open(path, "a", encoding="utf-8", errors="backslashreplace") as f:
                f.write(text)
            return path
        except Exception:  # unwritable, full disk, gone: try the next place
            continue
    return None


def _log_paths(run_dir: Path | None) -> list[Path]:
    paths = []
    try:
        if run_dir is not None and Path(run_dir).is_dir():
            paths.append(Path(run_dir) / RUN_DIR_LOG)
    except OSError:
        pass
    try:
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        name = f"authsurge-error-{os.getpid()}-{stamp}.log"
        paths.append(Path(tempfile.gettempdir()) / name)
    except Exception:  # gettempdir raises when no temp dir is usable at all
        pass
    return paths


def one_line(exc: BaseException) -> str:
    """`Type: message` on one line (a multi-line message would break the one-line contract)."""
    try:
        message = " ".join(str(exc).split())
    except Exception:
        message = "<the message could not be shown>"
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def report_internal_error(
    exc: BaseException, command: str, run_dir: Path | None = None, prog: str = "authsurge"
) -> int:
    """Log exc's traceback, print one line to stderr, return ExitStatus.INTERNAL_ERROR."""
    path = write_traceback(exc, command, run_dir)
    where = (
        f"full traceback: {path}"
        if path is not None
        else "the full traceback could not be written to the run directory or the temp dir"
    )
    # No secret redaction here: secrets are `Secret` objects that never show their value
    # (authsurge.secret), so they cannot reach an exception message by accident.
    _say(f"{prog}: internal error in {command!r}: {one_line(exc)} ({where})")
    return int(ExitStatus.INTERNAL_ERROR)


def run_command(
    func: Callable[[], Any],
    command: str,
    run_dir: Callable[[], Path | None] = lambda: None,
    prog: str = "authsurge",
) -> int:
    """Run one command and map how it ended to an exit status (see errors.ExitStatus).

    `run_dir` is asked only after a crash: a run creates its directory on the way.
    """
    try:
        return int(func())
    except AuthsurgeError as exc:
        _say(f"{prog}: error: {exc}")
        return int(exc.exit_status)
    except KeyboardInterrupt:
        _say(f"{prog}: interrupted")
        return int(ExitStatus.INTERRUPTED)
    except SystemExit as exc:
        # A library giving up with sys.exit(1) (Locust does when its master port is busy)
        # or sys.exit("message") would exit 1, which reads as a failed gate; other codes
        # (0, 2, ...) were chosen deliberately and pass as they are.
        if exc.code == 1 or not (exc.code is None or isinstance(exc.code, int)):
            return report_internal_error(exc, command, _safe(run_dir), prog)
        raise
    except Exception as exc:
        return report_internal_error(exc, command, _safe(run_dir), prog)


def _safe(run_dir: Callable[[], Path | None]) -> Path | None:
    try:
        return run_dir()
    except Exception:  # finding the run directory must not turn one error into two
        return None


def _say(line: str) -> None:
    try:
        print(line, file=sys.stderr, flush=True)
    except Exception:  # stderr closed (a pipe gone): the exit status still tells
        pass
