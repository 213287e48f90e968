"""What the target's password hashes cost in CPU, measured by the hasher itself.

The cost model says what login.submit costs from the outside (request counts against the
target's CPU samples). This is the inside view to check it against: every hash adds the
CPU time of the thread that computed it, so a busy machine's slower hash (shared caches,
a hyperthread sibling at work) is counted as the target paid it. Each gunicorn worker
writes its totals to HASH_CPU_DIR/<pid>.json when it exits (`worker_exit`); the master
empties that directory on every start. One writer (the workers), one reader
(`read_hash_cpu`): tests and bench/bench_cost.py.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from authsurge.target.layout import HASH_CPU_DIR
from authsurge.target.prepare import write_json

T = TypeVar("T")

_lock = threading.Lock()
_count = 0
_cpu_s = 0.0


def timed(compute: Callable[[], T]) -> T:
    """Run one hash and add its thread CPU time to this process's totals."""
    global _count, _cpu_s
    started = time.thread_time()
    try:
        return compute()
    finally:
        spent = time.thread_time() - started
        with _lock:
            _count += 1
            _cpu_s += spent


def clear(data_dir: Path) -> None:
    """Forget the last start's totals and the setup's own hashes (the gunicorn master,
    before it forks the workers, which would inherit its counts)."""
    global _count, _cpu_s
    with _lock:
        _count, _cpu_s = 0, 0.0
    shutil.rmtree(data_dir / HASH_CPU_DIR, ignore_errors=True)


def write(data_dir: Path) -> None:
    """Write this worker's totals (gunicorn's worker_exit hook, in the worker)."""
    with _lock:
        totals = {"hashes": _count, "cpu_s": _cpu_s}
    folder = data_dir / HASH_CPU_DIR
    folder.mkdir(exist_ok=True)
    write_json(folder / f"{os.getpid()}.json", totals)


@dataclass(frozen=True)
class HashCpu:
    hashes: int
    cpu_s: float
    workers: int  # how many worker files were read

    @property
    def mean_ms(self) -> float:
        """CPU-ms of one hash, averaged over every hash since the target started."""
        return 1000.0 * self.cpu_s / self.hashes if self.hashes else 0.0


def read_hash_cpu(data_dir: Path) -> HashCpu:
    """The totals of every worker that exited since the target's last start (stop the
    target first: a running worker has not written yet)."""
    hashes, cpu_s, workers = 0, 0.0, 0
    for path in sorted((Path(data_dir) / HASH_CPU_DIR).glob("*.json")):
        totals = json.loads(path.read_text())
        hashes += int(totals["hashes"])
        cpu_s += float(totals["cpu_s"])
        workers += 1
    return HashCpu(hashes, cpu_s, workers)
