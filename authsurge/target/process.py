"""Start, find and stop the embedded target: a gunicorn (gthread) process tree, and in the
split topology two more (the API pool, nginx: `TargetProcess.companions`).

start_target makes the keys, starts `python -m gunicorn` in its own session, hands the
gunicorn master the setup request on stdin (authsurge.target.prepare runs there), waits
for the setup report and /healthz and writes a PID file; split then starts the API pool
and nginx (authsurge.target.proxy), each with its PID file. Stop is SIGTERM, a bounded
wait, then SIGKILL for whatever is left of each tree (authsurge.target.tree).
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from authsurge.errors import BadInput, TargetUnreachable
from authsurge.secret import load_secret
from authsurge.target.capacity import reset_slots
from authsurge.target.health import healthz, log_tail, wait_healthy
from authsurge.target.keys import ensure_rsa_key, ensure_secret_key
from authsurge.target.layout import (
    API_LOG_FILE,
    APP_JWT_KEY_FILE,
    COMPANIONS,
    LOG_FILE,
    MARKER_FILE,
    MFA_SECRETS_FILE,
    PID_FILE,
    PREPARED_FILE,
    SLOT_FILE,
    STATE_FILE,
    companion_pid_file,
)
from authsurge.target.options import (
    CLIENT_SECRET_ENV,
    PASSWORD_ENV,
    TargetOptions,
    child_env,
    server_env,
    url_host,
)
from authsurge.target.proxy import is_our_proxy, nginx_binary, start_proxy
from authsurge.target.tree import alive, terminate

logger = logging.getLogger(__name__)

PREPARE_TIMEOUT_S = 600.0  # migrate + 1,000,000 users fits; 10,000 users take a few seconds


@dataclass
class Companion:
    """A process group the split topology adds to the auth pool (the API pool, the proxy)."""

    name: str  # "api" or "proxy" (its PID file is <name>.pid in the data dir)
    pid: int
    popen: subprocess.Popen[bytes] | None = field(default=None, repr=False)


@dataclass
class TargetProcess:
    """A running target; `stop()` (or leaving the `with` block) ends the whole process tree."""

    pid: int
    """PID of the gunicorn master."""
    host: str
    port: int
    data_dir: Path
    stop_timeout_s: float = 10.0
    _popen: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    certfile: Path | None = None
    """The certificate it serves HTTPS with (None: plain HTTP)."""
    companions: list[Companion] = field(default_factory=list)
    """split topology: the proxy and the API pool (stopped before the auth pool)."""
    mfa_secrets_file: Path | None = None
    """--app-login: the CSV (`username,totp_secret`, mode 0600) of the TOTP accounts
    mfa0001..; None without app_login."""

    @property
    def base_url(self) -> str:
        scheme = "https" if self.certfile is not None else "http"
        return f"{scheme}://{url_host(self.host)}:{self.port}"

    @property
    def issuer(self) -> str:
        """The OIDC issuer, as in discovery and in every ID token."""
        return f"{self.base_url}/o"

    def pids(self) -> list[int]:
        """The master and its worker PIDs (master first), then the API pool's and the
        proxy's trees, for resource sampling."""
        return [
            pid for root in (self.pid, *(c.pid for c in self.companions)) for pid in _tree(root)
        ]

    def is_running(self) -> bool:
        if self._popen is not None and self._popen.poll() is not None:
            return False
        return alive(self.pid) and all(alive(c.pid) for c in self.companions)

    def stop(self) -> None:
        """SIGTERM, wait up to stop_timeout_s, then SIGKILL; idempotent. The proxy first
        (no new requests), then the API pool, then the auth pool."""
        for companion in reversed(self.companions):
            terminate(companion.pid, companion.popen, self.stop_timeout_s)
            _remove_pid_file(self.data_dir, companion.pid, companion_pid_file(companion.name))
        terminate(self.pid, self._popen, self.stop_timeout_s)
        _remove_pid_file(self.data_dir, self.pid)

    def __enter__(self) -> TargetProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class TargetStatus:
    running: bool
    data_dir: Path
    pid: int | None = None
    base_url: str | None = None
    pids: list[int] = field(default_factory=list)
    healthy: bool = False
    users: int | None = None


def start_target(
    opts: TargetOptions, *, log: Callable[[str], None] | None = None, detach: bool = False
) -> TargetProcess:
    """Start gunicorn, prepare the data dir if needed, wait for /healthz; returns the handle.

    `detach=True` (for `authsurge target serve` in the background) lets the target outlive
    this process; otherwise it stops by itself when this process dies without stopping it.
    Raises BadInput (port in use, not loopback, a target already running from the data
    dir, secrets not set) or TargetUnreachable (it did not come up; the log tail says why).
    """
    say = log or logger.info
    opts.checked()
    data_dir = Path(opts.data_dir).expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    running = _running_master(data_dir)
    if running is not None:
        raise BadInput(
            f"a target is already running from {data_dir} (PID {running}); "
            f"stop it first: authsurge target stop --data-dir {opts.data_dir}"
        )
    password = load_secret("the target's user password", env=PASSWORD_ENV)
    client_secret = load_secret("the target's client secret", env=CLIENT_SECRET_ENV)
    port = _pick_free_port(opts.host) if opts.port == 0 else opts.port
    _check_port_free(opts.host, port)
    split = opts.topology == "split"
    if split:
        nginx_binary()  # before anything starts: say how to install it
    # split: the auth pool listens on a port of its own, the proxy on the public one
    auth_port = _pick_free_port(opts.host) if split else port

    made = [
        name
        for name, new in (
            ("Django secret key", ensure_secret_key(data_dir)),
            ("RSA signing key", ensure_rsa_key(data_dir)),
            ("app JWT key", opts.app_login and ensure_rsa_key(data_dir, APP_JWT_KEY_FILE)),
        )
        if new
    ]
    env = child_env(opts, data_dir, auth_port, role="auth", public_port=port)
    if not detach:
        env["AUTHSURGE_TARGET_OWNER_PID"] = str(os.getpid())
    if opts.login_capacity is not None:
        reset_slots(data_dir / SLOT_FILE)
    (data_dir / PREPARED_FILE).unlink(missing_ok=True)
    popen = _gunicorn(env, data_dir / LOG_FILE, stdin=subprocess.PIPE)
    certfile = Path(opts.certfile).resolve() if opts.certfile is not None else None
    target = TargetProcess(
        pid=popen.pid,
        host=opts.host,
        port=port,
        data_dir=data_dir,
        stop_timeout_s=opts.stop_timeout_s,
        _popen=popen,
        certfile=certfile,
        mfa_secrets_file=data_dir / MFA_SECRETS_FILE if opts.app_login else None,
    )
    try:
        # written at once, so `authsurge target stop` also reaches a target still starting
        (data_dir / PID_FILE).write_text(f"{popen.pid}\n")
        request = {
            "users": opts.users,
            "password": password.reveal(),
            "client_secret": client_secret.reveal(),
            "mfa_users": opts.mfa_count,
        }
        assert popen.stdin is not None
        with (
            contextlib.suppress(BrokenPipeError),
            popen.stdin,
        ):  # if it died, _wait_prepared says why
            popen.stdin.write((json.dumps(request) + "\n").encode())
        summary = _wait_prepared(target, popen)
        say(_describe(data_dir, made, summary, password.source, client_secret.source))
        wait_healthy(target, popen, opts.startup_timeout_s, port=auth_port)
        if split:
            _start_companions(target, opts, env, auth_port)
        state = {
            "pid": popen.pid,
            "base_url": target.base_url,
            "host": opts.host,
            "port": port,
            "started_at": time.time(),
            "workers": opts.workers,
            "threads": opts.threads,
            "topology": opts.topology,
            "companions": {c.name: c.pid for c in target.companions},
            "hasher_iterations": opts.hasher_iterations,
            "login_capacity": opts.login_capacity,
            "login_queue": opts.queue if opts.login_capacity else None,
            "delay_ms": opts.delay_ms,
            "detached": detach,
            "certfile": str(certfile) if certfile else None,
            "app_login": opts.app_login,
            "device_code_lifetime_s": opts.device_code_lifetime_s,
            "device_interval_s": opts.device_interval_s,
            "device_slow_down": opts.device_slow_down,
        }
        (data_dir / STATE_FILE).write_text(json.dumps(state, indent=2) + "\n")
    except BaseException:
        target.stop()
        raise
    pools = f"{opts.workers} workers x {opts.threads} threads"
    if split:
        pools = (
            f"split: nginx -> /api/ on {opts.api_workers} x {opts.api_threads}, the rest on {pools}"
        )
    say(f"target up at {target.base_url} (gunicorn PID {popen.pid}, {pools})")
    if target.mfa_secrets_file is not None:  # the path only: the file holds secrets
        say(f"TOTP secrets of the mfa accounts: {target.mfa_secrets_file}")
    return target


def _start_companions(
    target: TargetProcess, opts: TargetOptions, auth_env: dict[str, str], auth_port: int
) -> None:
    """The split topology's API pool and nginx, after the auth pool prepared the data dir."""
    api_port = _pick_free_port(opts.host)
    env = {
        **auth_env,
        **server_env(opts, target.data_dir, api_port, role="api", public_port=target.port),
    }
    api = _gunicorn(env, target.data_dir / API_LOG_FILE, stdin=subprocess.DEVNULL)
    target.companions.append(Companion("api", api.pid, api))
    (target.data_dir / companion_pid_file("api")).write_text(f"{api.pid}\n")
    wait_healthy(target, api, opts.startup_timeout_s, port=api_port, log=API_LOG_FILE)
    proxy = start_proxy(
        target.data_dir,
        opts.host,
        target.port,
        auth_port,
        api_port,
        env,
        target.data_dir / API_LOG_FILE,
    )
    target.companions.append(Companion("proxy", proxy.pid, proxy))
    (target.data_dir / companion_pid_file("proxy")).write_text(f"{proxy.pid}\n")
    wait_healthy(target, proxy, opts.startup_timeout_s, port=target.port, log=API_LOG_FILE)


def _gunicorn(env: dict[str, str], log: Path, stdin: int) -> subprocess.Popen[bytes]:
    """One gunicorn pool of the target, logging to `log`."""
    with open(log, "ab") as log_file:
        return subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:authsurge.target.gunicorn_conf"],
            env=env,
            stdin=stdin,
            stdout=log_file,
            stderr=log_file,
            # its own session: a Ctrl-C in the terminal reaches us, and we stop it in order
            start_new_session=True,
        )


def _tree(root: int) -> list[int]:
    try:
        proc = psutil.Process(root)
        return [root, *sorted(p.pid for p in proc.children(recursive=True))]
    except psutil.Error:
        return []


@contextlib.contextmanager
def running_target(
    opts: TargetOptions, *, log: Callable[[str], None] | None = None
) -> Iterator[TargetProcess]:
    """`with running_target(opts) as target:` - always stopped, also on exceptions and Ctrl-C."""
    target = start_target(opts, log=log)
    try:
        yield target
    finally:
        target.stop()


def stop_target(data_dir: Path, timeout_s: float = 10.0) -> bool:
    """Stop the target whose PID file is in data_dir; False if none was running."""
    data_dir = Path(data_dir).expanduser().resolve()
    stopped = False
    # the proxy first, then the API pool (split topology): also when the auth pool died,
    # or nginx would keep the public port
    for name in COMPANIONS:
        companion = _running_master(data_dir, name)
        if companion is not None:
            terminate(companion, None, timeout_s)
            stopped = True
        _remove_pid_file(data_dir, companion, companion_pid_file(name))
    pid = _running_master(data_dir)
    if pid is not None:
        terminate(pid, None, timeout_s)
        stopped = True
    _remove_pid_file(data_dir, pid)
    return stopped


def target_status(data_dir: Path) -> TargetStatus:
    """Whether a target runs from data_dir, where, and whether /healthz answers."""
    data_dir = Path(data_dir).expanduser().resolve()
    status = TargetStatus(
        running=False, data_dir=data_dir, users=_read_json(data_dir / MARKER_FILE).get("users")
    )
    pid = _running_master(data_dir)
    if pid is None:
        return status
    state = _read_json(data_dir / STATE_FILE)
    status.running, status.pid, status.base_url = True, pid, state.get("base_url")
    companions = [c for c in (_running_master(data_dir, n) for n in COMPANIONS) if c is not None]
    status.pids = [p for root in (pid, *companions) for p in _tree(root)]
    if status.base_url:
        status.healthy = healthz(status.base_url, timeout=2.0, certfile=state.get("certfile"))
    return status


# --- helpers ----------------------------------------------------------------------------


def _wait_prepared(target: TargetProcess, popen: subprocess.Popen[bytes]) -> dict[str, Any]:
    """Wait for the gunicorn master's setup report (migrations, clients, users)."""
    path = target.data_dir / PREPARED_FILE
    deadline = time.monotonic() + PREPARE_TIMEOUT_S
    while time.monotonic() < deadline:
        if path.exists():
            report = _read_json(path)
            if "error" in report:
                raise TargetUnreachable(
                    f"preparing the target's data dir {target.data_dir} failed: "
                    f"{report['error']}\n{log_tail(target.data_dir)}"
                )
            if report:
                return report
        if popen.poll() is not None:
            raise TargetUnreachable(
                f"gunicorn exited with status {popen.returncode} while preparing "
                f"{target.data_dir}; its log ends with:\n{log_tail(target.data_dir)}"
            )
        time.sleep(0.05)
    raise TargetUnreachable(f"preparing the target's data dir took over {PREPARE_TIMEOUT_S:.0f} s")


def _describe(
    data_dir: Path, made: list[str], s: dict[str, Any], pw_source: str, secret_source: str
) -> str:
    parts = [f"target data dir {data_dir}:"]
    if made:
        parts.append(f"created {', '.join(made)};")
    if s.get("migrations_applied"):
        parts.append(f"applied {s['migrations_applied']} migrations ({s['migrate_s']} s);")
    if s.get("clients_created"):
        parts.append(f"created OIDC clients {', '.join(s['clients_created'])};")
    if s.get("clients_updated"):
        parts.append(f"updated clients {', '.join(s['clients_updated'])};")
    parts.append(
        f"{s['users_total']} users ({s['users_created']} new"
        + (f", {s['users_rehashed']} re-hashed" if s.get("users_rehashed") else "")
        + ");"
    )
    if "mfa_accounts" in s:
        parts.append(f"{s['mfa_accounts']} TOTP accounts ({s['mfa_totp_created']} new);")
    parts.append(f"password from {pw_source}, client secret from {secret_source}")
    return " ".join(parts)


def _addr(host: str, port: int) -> tuple[int, tuple[Any, ...]]:
    family, _, _, _, sockaddr = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)[
        0
    ]
    return family, sockaddr


def _pick_free_port(host: str) -> int:
    family, sockaddr = _addr(host, 0)
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind(sockaddr)
        return int(s.getsockname()[1])


def _check_port_free(host: str, port: int) -> None:
    # the same bind gunicorn will do (SO_REUSEADDR), so TIME_WAIT leftovers do not count;
    # gunicorn itself would retry an address in use for 5 s and then exit with a vague log
    family, sockaddr = _addr(host, port)
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(sockaddr)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise BadInput(
                    f"port {port} on {host} is already in use; stop whatever listens there "
                    "(`authsurge target stop`?) or pick another --port (0 picks a free one)"
                ) from None
            raise BadInput(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _running_master(data_dir: Path, companion: str | None = None) -> int | None:
    """The PID in the PID file (the auth pool's, or a companion's) if that process is
    alive and is this data dir's gunicorn or nginx (a stale PID file may name a recycled
    PID that we must not signal)."""
    try:
        pid = int(
            (data_dir / (companion_pid_file(companion) if companion else PID_FILE))
            .read_text()
            .split()[0]
        )
        proc = psutil.Process(pid)
        if not alive(pid):
            return None
        if companion == "proxy":  # nginx rewrites its argv and environment
            return pid if is_our_proxy(proc.cmdline(), data_dir) else None
        if "gunicorn" not in " ".join(proc.cmdline()):
            return None
        with contextlib.suppress(psutil.AccessDenied):
            if proc.environ().get("AUTHSURGE_TARGET_DATA_DIR") != str(data_dir):
                return None
        return pid
    except (OSError, ValueError, IndexError, psutil.Error):
        return None


def _remove_pid_file(data_dir: Path, pid: int | None, name: str = PID_FILE) -> None:
    path = data_dir / name
    try:
        if pid is None or int(path.read_text().split()[0]) == pid:
            path.unlink()
    except (OSError, ValueError, IndexError):
        pass
