"""The embedded target, started for real on 127.0.0.1 and always stopped.

- `target`: one target for the whole session (free port, 50 users, cheap hashing).
- `target_factory(**opts)`: more targets (capacity mode, a slow target, ...) for one
  test; all stop at teardown. Each gets its own data dir unless `data_dir=` is given.
  A data dir without a database gets a copy of the session target's (user0001..0050,
  the clients): migrating costs ~2 s, a copy milliseconds. `fresh=True` skips the copy.
- `seeded_data_dir`: such a copy in a tmp dir, for targets started through the CLI.
- `sink` (per module): authsurge's mail sink on 127.0.0.1; `mailbox`, a client of it.
- `signup_target` (per module): a target with --signup (allauth, magic links) sending
  its mail to `sink`, on a copy of the session target's data dir, which was prepared
  without allauth: this start must add allauth's tables.
  One more, sending to another sink (a slow or dropping provider), for one test:
  `target_factory(signup=True, smtp_port=other.smtp_port)`.
- `app_login_target` (per session): a target with --app-login (allauth's headless API for
  apps, JWT access tokens) and 12 TOTP accounts mfa0001..mfa0012, on a copy of the
  session target's data dir; `app_login_target.mfa_secrets_file` is their CSV. A code is
  good once per account and 30 s, so each test signs in with its own mfa accounts
  (target/test_app_login.py: 1-4; journeys/test_app_login.py: 5-8;
  secret/test_app_login_leaks.py: 9-12).
  Others: `target_factory(app_login=True, mfa_users=N)`.
- `device_target` (per session): the device authorization grant with --device-slow-down,
  a 1-s interval and 600-s device codes, 2 workers, the access log on
  (target/test_device.py, journeys/test_device_login.py, secret/test_device_leaks.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from authsurge.mail import MailboxClient, MailSink
from authsurge.target import TargetOptions, TargetProcess, start_target
from tests.support.target import TEST_HASHER_ITERATIONS, TargetSecrets, seed_data_dir


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


@pytest.fixture(scope="module")
def sink() -> Iterator[MailSink]:
    mail_sink = MailSink().start()
    try:
        yield mail_sink
    finally:
        mail_sink.stop()


@pytest.fixture(scope="module")
def mailbox(sink: MailSink) -> MailboxClient:
    return MailboxClient(sink.http_url)


@pytest.fixture(scope="module")
def signup_target(target: TargetProcess, target_env: TargetSecrets, sink: MailSink,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[TargetProcess]:
    data_dir = tmp_path_factory.mktemp("signup-target")
    seed_data_dir(target.data_dir, data_dir)
    opts = TargetOptions(port=0, users=50, workers=1, threads=4,
                         hasher_iterations=TEST_HASHER_ITERATIONS, data_dir=data_dir,
                         startup_timeout_s=30, signup=True, smtp_port=sink.smtp_port)
    proc = start_target(opts, log=lambda line: None)
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def app_login_target(target: TargetProcess, target_env: TargetSecrets,
                     tmp_path_factory: pytest.TempPathFactory) -> Iterator[TargetProcess]:
    data_dir = tmp_path_factory.mktemp("app-login-target")
    seed_data_dir(target.data_dir, data_dir)
    # two workers: a used TOTP code must be refused whichever worker sees it again
    opts = TargetOptions(port=0, users=50, workers=2, threads=4,
                         hasher_iterations=TEST_HASHER_ITERATIONS, data_dir=data_dir,
                         startup_timeout_s=30, app_login=True, mfa_users=12,
                         access_log=data_dir / "access.log")
    proc = start_target(opts, log=lambda line: None)
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def device_target(target: TargetProcess, target_env: TargetSecrets,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[TargetProcess]:
    """Two workers (the slow-down state and the one-token claim must hold across them),
    slow-down on, a 1 s interval, the access log on."""
    data_dir = tmp_path_factory.mktemp("device-target")
    seed_data_dir(target.data_dir, data_dir)
    opts = TargetOptions(port=0, users=50, workers=2, threads=4, hasher_iterations=TEST_HASHER_ITERATIONS,
                         data_dir=data_dir, startup_timeout_s=30, access_log=data_dir / "access.log",
                         device_slow_down=True, device_interval_s=1, device_code_lifetime_s=600)
    proc = start_target(opts, log=lambda line: None)
    try:
        yield proc
    finally:
        proc.stop()
