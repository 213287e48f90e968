"""`--login-capacity`: at most N password checks per second across all gunicorn workers.

Each password check takes the next free slot, ``slot = max(now, last_slot + 1/N)``, and
sleeps until it; if that wait would be longer than Q/N seconds (Q checks already
waiting), it is refused at once with 503. Slots are 1/N apart whatever the number of
processes, so a saturated target completes exactly N checks per second; an idle one
adds no delay.

Why a file with an fcntl lock for the shared `last_slot` (and not shared memory made in
the gunicorn master): it works whatever the order of preload and fork, survives worker
restarts, needs no hook in the master, and can be inspected with `od -t f8`. The lock
is held for one pread + pwrite (microseconds), far below the 1/N gaps it hands out.
Times are CLOCK_MONOTONIC, which on Linux is one clock for every process on the machine.
The file is reset when the target starts.
"""

from __future__ import annotations

import fcntl
import os
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path

from authsurge.target.layout import SLOT_FILE

_SLOT = struct.Struct("=d")


class LoginCapacityExceeded(Exception):
    """The wait queue for password checks is full; the middleware answers 503."""

    def __init__(self, wait_s: float) -> None:
        super().__init__(f"login capacity reached: the next slot is {wait_s:.2f} s away")
        self.wait_s = wait_s


def reset_slots(path: Path) -> None:
    """Start with no slot taken (called by start_target before gunicorn runs)."""
    path.write_bytes(_SLOT.pack(0.0))


class SlotLimiter:
    def __init__(
        self, path: Path, rate: float, queue: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.path = path
        self.clock = clock  # injectable, so tests check the slot arithmetic without sleeping
        self.interval = 1.0 / rate
        self.max_wait = queue / rate
        # flock excludes other processes only: threads of one process share the open file
        # description, so they take this lock first.
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int:
        if self._fd is None or self._pid != os.getpid():  # never reuse a descriptor across fork
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def reserve(self) -> float:
        """Take the next slot; returns how long to wait for it, or raises LoginCapacityExceeded."""
        with self._lock:
            fd = self._file()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                raw = os.pread(fd, _SLOT.size, 0)
                last = _SLOT.unpack(raw)[0] if len(raw) == _SLOT.size else 0.0
                now = self.clock()
                slot = max(now, last + self.interval)
                wait = slot - now
                if wait > self.max_wait + 1e-9:  # float noise must not refuse an exact fit
                    raise LoginCapacityExceeded(wait)
                os.pwrite(fd, _SLOT.pack(slot), 0)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        return wait

    def acquire(self) -> None:
        wait = self.reserve()
        if wait > 0:
            time.sleep(wait)


_limiter: SlotLimiter | None = None


def limiter() -> SlotLimiter:
    """The limiter configured by the Django settings (one per process)."""
    from django.conf import settings  # this module is also imported where Django is not set up

    global _limiter
    if _limiter is None:
        _limiter = SlotLimiter(
            Path(settings.AUTHSURGE_DATA_DIR) / SLOT_FILE,
            float(settings.AUTHSURGE_LOGIN_CAPACITY),
            int(settings.AUTHSURGE_LOGIN_QUEUE),
        )
    return _limiter
