"""The CPU cost of one PBKDF2-SHA256 password hash (Django's default hasher) on this machine.

The known answer of the cost model: tests and benchmarks time the hash with hashlib and
compare it with what the analysis attributes to the password step.
"""

from __future__ import annotations

import hashlib
import math
import time

_PASSWORD = b"authsurge-pbkdf2-timing"
_SALT = b"saltsaltsaltsaltsalt12"  # Django's salts are 22 characters


def hash_ms(iterations: int, repeat: int = 5) -> float:
    """CPU ms of one PBKDF2-SHA256 of `iterations`, the best of `repeat` (process time)."""
    best = math.inf
    for _ in range(repeat):
        t0 = time.process_time()
        hashlib.pbkdf2_hmac("sha256", _PASSWORD, _SALT, iterations)
        best = min(best, time.process_time() - t0)
    return best * 1000.0


def iterations_for(ms: float, probe: int = 20_000) -> int:
    """The iteration count whose hash costs about `ms` here (1 for ms <= 0)."""
    if ms <= 0:
        return 1
    return max(1, round(probe * ms / hash_ms(probe)))
