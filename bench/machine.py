"""What the benchmarks share about the machine: CPU time of other processes and copying a
seeded target data dir (pinning is authsurge.cpu_affinity).

Kept free of Locust and gevent, so a benchmark's parent process can import it without
being monkey-patched.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

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


def copy_data_dir(source: Path, dest: Path) -> None:
    """A target data dir from the seed: keys, and the database through SQLite's backup API."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("secret_key", "oidc_rsa.pem"):
        shutil.copy2(source / name, dest / name)
    src = sqlite3.connect(source / "db.sqlite3")
    dst = sqlite3.connect(dest / "db.sqlite3")
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
