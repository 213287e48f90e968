"""Exit statuses and the errors that map to them (one place, documented in the README)."""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    """What `authsurge` returns to the shell.

    1 means only "a gate failed", so a pipeline can gate on it: everything else that goes
    wrong is 2 (the user's input or environment), 3 (the harness itself) or 130 (Ctrl-C).
    """

    SUCCESS = 0
    GATE_FAILED = 1  # an SLO breached, a run.abort_on condition held, compare found a regression
    # usage, scenario, trace, run directory, unreachable target (also `target status` when
    # no target answers), port in use
    BAD_INPUT = 2
    # the harness itself failed (internal error or a failed run); the run directory is
    # still written. An internal error prints one line; its traceback goes to a log file
    # (authsurge.crashlog).
    INTERNAL_ERROR = 3
    RUN_FAILED = 3  # alias of INTERNAL_ERROR: a run that failed is the harness failing
    INTERRUPTED = 130  # Ctrl-C; the run directory is still written


class AuthsurgeError(Exception):
    """Base error: its message is shown to the user as is, without a traceback."""

    exit_status: ExitStatus = ExitStatus.BAD_INPUT


class BadInput(AuthsurgeError):
    """Something the user gave us is wrong; nothing was run."""


class ScenarioError(BadInput):
    """A scenario file (or an override) does not fit the schema."""


class TargetUnreachable(BadInput):
    """The target did not answer before the run started."""


class RunDirError(BadInput):
    """A run directory is missing, empty or corrupt."""


class RunFailed(AuthsurgeError):
    exit_status = ExitStatus.RUN_FAILED
