"""Secrets (passwords, client secrets): read from the environment or a file, never shown.

A `Secret` hides its value from repr/str/format, so it cannot leak into a log line,
an exception or a report by accident; `reveal()` is the one way to the value.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from authsurge.errors import BadInput


class Secret:
    __slots__ = ("_value", "source")

    def __init__(self, value: str, source: str) -> None:
        self._value = value
        self.source = source  # "env AUTHSURGE_PASSWORD" or "file secrets/pw.txt": safe to show

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret(from {self.source})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def load_secret(
    what: str,
    env: str | None = None,
    file: Path | None = None,
    environ: dict[str, str] | None = None,
) -> Secret:
    """Read one secret from an environment variable or the first line of a file."""
    environ = dict(os.environ) if environ is None else environ
    if file is not None:
        try:
            value = Path(file).read_text(encoding="utf-8").splitlines()[0]
        except (OSError, IndexError, UnicodeDecodeError):
            raise BadInput(
                f"{what}: cannot read the secrets file {file} (missing, empty or unreadable)"
            ) from None
        return Secret(value, f"file {file}")
    if env:
        if env not in environ or environ[env] == "":
            raise BadInput(
                f"{what}: the environment variable {env} is not set; export it before the run"
            )
        return Secret(environ[env], f"env {env}")
    raise BadInput(f"{what}: no secret source given (an environment variable or a file)")


class RedactingFilter(logging.Filter):
    """Replaces known secret values in log records, a last line of defence."""

    def __init__(self, secrets: list[Secret]) -> None:
        super().__init__()
        self.values = [s.reveal() for s in secrets if s.reveal()]

    def filter(self, record: logging.LogRecord) -> bool:
        if self.values:
            message = record.getMessage()
            if any(v in message for v in self.values):
                for v in self.values:
                    message = message.replace(v, "***")
                record.msg, record.args = message, None
        return True
