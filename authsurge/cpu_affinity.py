"""Pinning the harness and a target to different CPUs (what `taskset` does), for the
measurements that need the client and the target apart: a cost known answer, a bench.

Only Linux has sched_setaffinity; elsewhere, or on one CPU, nothing is pinned.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager


def can_pin() -> bool:
    return hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2


def pin_process(pid: int, cpus: set[int]) -> None:
    """Pin every thread of a process; processes it starts later inherit the pinning."""
    try:
        tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        tids = [pid]
    for tid in tids:
        try:
            os.sched_setaffinity(tid, cpus)
        except OSError:
            pass  # a thread that just ended


@contextmanager
def pinned_apart(target_pids: Sequence[int]) -> Iterator[bool]:
    """The target on the last CPU, this process (the harness) on the others, until the
    block ends; yields whether anything was pinned."""
    everything = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    if len(everything) < 2:
        yield False
        return
    target_cpu = max(everything)
    for pid in target_pids:
        pin_process(pid, {target_cpu})
    pin_process(os.getpid(), everything - {target_cpu})
    try:
        yield True
    finally:
        pin_process(os.getpid(), everything)
