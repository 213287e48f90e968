"""What the benchmarks share about the machine: CPU time of other processes.

Kept free of Locust and gevent, so a benchmark's parent process can import it without
being monkey-patched.
"""

from __future__ import annotations

import psutil


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes so far (gone ones count 0)."""
    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total
