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


# The machine reference printed beside every per-vCPU figure: a table measured on a laptop
# must not be read as a server's. A round count: only that every run measures the same
# unit of work matters (one password hash, as Keycloak's guide counts per vCPU).
REFERENCE_ITERATIONS = 100_000
REFERENCE_SECONDS = 0.5  # of one core's time, at most (the brief: under a second)


def reference_rate(
    iterations: int = REFERENCE_ITERATIONS, seconds: float = REFERENCE_SECONDS
) -> dict[str, float]:
    """PBKDF2-SHA256 hashes per second of one core, from the fastest of the hashes made in
    about `seconds` of CPU (at least 3): {"hashes_per_s_per_core", "iterations", "cpu_s",
    "hashes"}. The fastest, as `hash_ms` takes the best of its repeats: on this VM the mean
    over half a second read 18 hashes/s where the best of five, a second earlier, read 32
    (time stolen by the host, a busy sibling hyperthread). The calling thread's CPU time:
    the process's would count its other threads too (a target's log reader, a sampler)."""
    hashes, used, best = 0, 0.0, math.inf
    while hashes < 3 or used < seconds:
        t0 = time.thread_time()
        hashlib.pbkdf2_hmac("sha256", _PASSWORD, _SALT, iterations)
        took = time.thread_time() - t0
        used, best, hashes = used + took, min(best, took), hashes + 1
        if hashes >= 3 and used >= seconds / 2 and used / hashes * (hashes + 1) > seconds:
            break  # one more hash would pass the budget
    return {
        "hashes_per_s_per_core": 1.0 / best if best > 0 else math.inf,
        "iterations": float(iterations),
        "cpu_s": used,
        "hashes": float(hashes),
    }
