"""Shared fixtures: the embedded target, started for real on 127.0.0.1 and always stopped.

- `target_env`: AUTHSURGE_PASSWORD / AUTHSURGE_CLIENT_SECRET test values for the session
  (restored afterwards); its value holds them for tests that log in.
- `target`: one target for the whole session (free port, 50 users, cheap hashing).
- `target_factory(**opts)`: more targets (capacity mode, a slow target, ...) for one
  test; all stop at teardown. Each gets its own data dir unless `data_dir=` is given.
  A data dir without a database gets a copy of the session target's (user0001..0050,
  the clients): migrating costs ~2 s, a copy milliseconds. `fresh=True` skips the copy.
- `seeded_data_dir`: such a copy in a tmp dir, for targets started through the CLI.
"""

from __future__ import annotations

# gevent must patch ssl before any test module imports requests/urllib3 (the suite's order
# made that so by chance; a subset such as tests/target + tests/faults hit RecursionError)
import locust  # noqa: F401, I001

import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from authsurge.target import (
    CLIENT_SECRET_ENV,
    PASSWORD_ENV,
    TargetOptions,
    TargetProcess,
    start_target,
)

# Cheap hashing keeps the suite fast; the default (100,000) is what the demo uses.
TEST_HASHER_ITERATIONS = 1_000

# Property tests judge behaviour, not speed: a pause of the loaded CI machine must not fail
# them (hypothesis' default 200 ms deadline and its too-slow health check).
settings.register_profile("authsurge", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("authsurge")


@dataclass(frozen=True)
class TargetSecrets:
    password: str
    client_secret: str


@pytest.fixture(scope="session")
def target_env() -> Iterator[TargetSecrets]:
    secrets = TargetSecrets(password="pytest-surge-password", client_secret="pytest-surge-client-secret")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(PASSWORD_ENV, secrets.password)
        mp.setenv(CLIENT_SECRET_ENV, secrets.client_secret)
        yield secrets


@pytest.fixture(scope="session")
def target(target_env: TargetSecrets, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TargetProcess]:
    opts = TargetOptions(port=0, users=50, workers=2, threads=4, hasher_iterations=TEST_HASHER_ITERATIONS,
                         data_dir=tmp_path_factory.mktemp("target"), startup_timeout_s=30)
    proc = start_target(opts, log=lambda line: None)
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture()
def target_factory(target_env: TargetSecrets, target: TargetProcess,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., TargetProcess]]:
    started: list[TargetProcess] = []

    def start(fresh: bool = False, **overrides: Any) -> TargetProcess:
        values: dict[str, Any] = {"port": 0, "users": 20, "workers": 1, "threads": 4,
                                  "hasher_iterations": TEST_HASHER_ITERATIONS, "startup_timeout_s": 30}
        values.update(overrides)
        if not values.get("data_dir"):
            values["data_dir"] = tmp_path_factory.mktemp("extra-target")
        if not fresh and not (Path(values["data_dir"]) / "db.sqlite3").exists():
            seed_data_dir(target.data_dir, Path(values["data_dir"]))
        proc = start_target(TargetOptions(**values), log=lambda line: None)
        started.append(proc)
        return proc

    try:
        yield start
    finally:
        for proc in started:
            proc.stop()


@pytest.fixture()
def seeded_data_dir(target: TargetProcess, tmp_path: Path) -> Path:
    """An empty-looking data dir that already holds a copy of the session target's database,
    for tests that start a target some other way (the CLI) without paying for migrations."""
    seed_data_dir(target.data_dir, tmp_path)
    return tmp_path


def seed_data_dir(source: Path, dest: Path) -> None:
    """Copy a target's database (consistently, while it runs: SQLite's backup API) and keys."""
    for name in ("secret_key", "oidc_rsa.pem"):
        shutil.copy2(source / name, dest / name)
    with sqlite3.connect(source / "db.sqlite3") as src, sqlite3.connect(dest / "db.sqlite3") as dst:
        src.backup(dst)
    src.close()
    dst.close()
