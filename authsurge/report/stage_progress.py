"""A one-line progress indicator for long analyses (analyze, report, compare).

authsurge.analysis calls ``progress(stage)`` as it goes; this prints that stage on one
redrawn stderr line with the time so far, only when stderr is a terminal (logs and CI
output stay clean), and clears the line when done.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class StageProgress:
    """Callable progress sink: ``StageProgress("analyze runs/x")("curves")``."""

    def __init__(
        self, label: str, stream: TextIO | None = None, *, enabled: bool | None = None
    ) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.t0 = time.monotonic()
        self._drawn = False

    def __call__(self, stage: str) -> None:
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.t0
        self.stream.write(f"\r\x1b[2K[{self.label}] {stage} ... {elapsed:.1f} s")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """Clear the line, so what is printed next starts on a clean line."""
        if self.enabled and self._drawn:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self._drawn = False

    def __enter__(self) -> StageProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
