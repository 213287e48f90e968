"""The embedded target as the tests run it: cheap hashing, test secrets, a seeded data dir."""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

# Cheap hashing keeps the suite fast; the default (100,000) is what the demo uses.
TEST_HASHER_ITERATIONS = 1_000


@dataclass(frozen=True)
class TargetSecrets:
    password: str
    client_secret: str


def seed_data_dir(source: Path, dest: Path) -> None:
    """Copy a target's database (consistently, while it runs: SQLite's backup API) and keys."""
    for name in ("secret_key", "oidc_rsa.pem"):
        shutil.copy2(source / name, dest / name)
    with sqlite3.connect(source / "db.sqlite3") as src, sqlite3.connect(dest / "db.sqlite3") as dst:
        src.backup(dst)
    src.close()
    dst.close()
