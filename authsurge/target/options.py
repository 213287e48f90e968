"""What the embedded target can be asked to be: `TargetOptions`, their checks, env names.

The options travel to the gunicorn and Django processes as `AUTHSURGE_TARGET_*`
environment variables (`server_env`), so the settings module and the gunicorn config
read one source and nothing is shared through module state of the calling process.
"""

from __future__ import annotations

import ipaddress
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from authsurge.errors import BadInput

PASSWORD_ENV = "AUTHSURGE_PASSWORD"  # the one password every test user has
CLIENT_SECRET_ENV = "AUTHSURGE_CLIENT_SECRET"  # the secret of the confidential OIDC clients

# Documented demo values, used only by `authsurge target serve` (and `make demo`) when the
# variables are not set. The library never falls back to them on its own.
DEMO_PASSWORD = "surge-demo-password"
DEMO_CLIENT_SECRET = "surge-demo-secret"

# PBKDF2-SHA256 iterations of the target's passwords: a tenth of Django's own default
# (1,000,000 in 5.2, ~0.6 s of CPU per login when it was set, near 3 logins/s on 2
# cores). `make demo` measures the capacity first, so this sets how much load a surge
# needs, not whether it saturates. Measurements in authsurge/target/README.md.
DEFAULT_HASHER_ITERATIONS = 100_000

DEFAULT_DATA_DIR = Path(".authsurge/target")
TOPOLOGIES = ("shared", "split")
SIGNUP_VERIFICATIONS = ("link", "code")  # how allauth verifies a signed-up address
DEFAULT_MAGIC_LINK_MAX_AGE_S = 600  # a mailed sign-in link's lifetime (--signup)
DEFAULT_LOGIN_CODE_TIMEOUT_S = 180  # a mailed sign-in code's lifetime (allauth's default)
DEFAULT_MFA_USERS = 20  # --app-login: TOTP accounts mfa0001..mfa0020 unless --mfa-users says
MAX_MFA_USERS = 100_000
LOOPBACK_NAMES = ("localhost",)
# the device authorization grant (RFC 8628): oauthlib's and DOT's own defaults
DEFAULT_DEVICE_CODE_LIFETIME_S = 1800
DEFAULT_DEVICE_INTERVAL_S = 5
MAX_DEVICE_CODE_LIFETIME_S = 86400
MAX_DEVICE_INTERVAL_S = 3600


@dataclass
class TargetOptions:
    """How to serve the embedded target (the CLI flags of `authsurge target serve`)."""

    host: str = "127.0.0.1"
    """Interface to listen on; loopback only (the harness never loads anything else)."""
    port: int = 8000
    """TCP port; 0 picks a free one (read it back from `TargetProcess.port`)."""
    workers: int = 2
    """gunicorn worker processes (of the auth pool, in split topology)."""
    threads: int = 4
    """Threads per worker (gunicorn gthread). Nothing is added in capacity mode: a
    password check waiting for its slot holds a thread, as it would in a real server."""
    topology: str = "shared"
    """shared: one gunicorn pool serves everything, so the API queues behind the password
    hashes. split: the API (/api/) has its own pool (api_workers x api_threads, its own
    processes on the same database) behind an nginx reverse proxy on the one base URL,
    as an ingress routes it in production (authsurge.target.proxy)."""
    api_workers: int = 1
    """split topology: gunicorn worker processes of the API pool."""
    api_threads: int = 4
    """split topology: threads per API worker."""
    users: int = 200
    """Test users user0001..userNNNN, all with the password from AUTHSURGE_PASSWORD."""
    hasher_iterations: int = DEFAULT_HASHER_ITERATIONS
    """PBKDF2 iterations for passwords and client secrets: the cost of one password check."""
    login_capacity: float | None = None
    """Cap password checks at this many per second across all workers (None: no cap)."""
    login_queue: int | None = None
    """Password checks that may wait for a slot; more get 503 at once (None: = capacity)."""
    delay_ms: float = 0.0
    """Extra server-side sleep on every request except /healthz (a slow target)."""
    data_dir: Path = field(default_factory=lambda: DEFAULT_DATA_DIR)
    """Database, RSA key, marker and PID file; reused when the target starts again."""
    startup_timeout_s: float = 30.0
    """How long to wait for /healthz after starting gunicorn."""
    stop_timeout_s: float = 10.0
    """How long SIGTERM may take before SIGKILL."""
    certfile: Path | None = None
    """PEM certificate (chain) to serve HTTPS with (gunicorn --certfile); None: plain HTTP."""
    keyfile: Path | None = None
    """PEM private key of `certfile` (gunicorn --keyfile); required with certfile."""
    access_log: Path | None = None
    """Write gunicorn's access log here (client address first); None: none, since a line
    per request costs more than some of the requests."""
    per_ip_limit: int | None = None
    """Requests a second one client address may make (in each worker process); beyond it
    429 with Retry-After: 1 (None: no limit)."""
    token_lifetime_s: int | None = None
    """Access tokens expire after this many seconds (DOT's ACCESS_TOKEN_EXPIRE_SECONDS,
    also the token response's expires_in); None: DOT's default, 10 hours."""
    session_age_s: int | None = None
    """Sign-in sessions expire after this many seconds (Django's SESSION_COOKIE_AGE; the
    API then answers 401); None: Django's default, two weeks."""
    signup: bool = False
    """Sign-up with mandatory e-mail verification and sign-in by e-mailed code
    (django-allauth under /accounts/; needs smtp_port). Off, and app_login off too:
    allauth is not loaded at all."""
    signup_verification: str = "link"
    """signup: how a new address is verified. "link": following the mail's link confirms
    it (a GET); "code": the mail's code is typed into /accounts/confirm-email/."""
    signup_rate_limits: bool = False
    """signup or app_login: keep allauth's own rate limits (e.g. 20 sign-ups and 20 code
    requests a minute per client address, 10 failed logins a minute per address). Off by
    default: a load test comes from one address."""
    smtp_port: int | None = None
    """signup: the target sends its mail to an SMTP server on 127.0.0.1 at this port
    (no TLS, no authentication; e.g. authsurge.mail.MailSink)."""
    magic_link_max_age_s: int = DEFAULT_MAGIC_LINK_MAX_AGE_S
    """signup: a sign-in link mailed from /accounts/magic/ (django-sesame) is refused
    this many seconds after it was made (SESAME_MAX_AGE); it works once either way."""
    login_code_timeout_s: int = DEFAULT_LOGIN_CODE_TIMEOUT_S
    """signup: an e-mailed sign-in code is refused this many seconds after it was asked
    for (allauth's ACCOUNT_LOGIN_BY_CODE_TIMEOUT)."""
    app_login: bool = False
    """JSON sign-in for apps: django-allauth's headless API for the app client under
    /_allauth/app/v1/ (session token and JWT access token), with TOTP second factor for
    the mfa accounts. Combines with signup."""
    mfa_users: int | None = None
    """app_login: accounts mfa0001..mfaNNNN (the users' password) with a TOTP
    authenticator; their secrets go to mfa-secrets.csv in the data dir. None: 20 with
    app_login (`mfa_count`); anything else needs app_login."""
    device_code_lifetime_s: int = DEFAULT_DEVICE_CODE_LIFETIME_S
    """Device authorization grant: a device code (and its user code) expires this many
    seconds after the device asked for it (the answer's expires_in); polling it then
    answers expired_token."""
    device_interval_s: int = DEFAULT_DEVICE_INTERVAL_S
    """Device authorization grant: the `interval` the device authorization answer gives
    (DOT's DEVICE_FLOW_INTERVAL), the seconds a device waits between polls."""
    device_slow_down: bool = False
    """Device authorization grant: enforce the interval per device code at the token
    endpoint; a poll sooner than the interval after the previous one answers 400
    slow_down and raises that code's interval by 5 s (authsurge.target.slow_down)."""

    def checked(self) -> TargetOptions:
        """Raise BadInput for anything we refuse to serve; returns self for chaining."""
        if not is_listenable(self.host):
            raise BadInput(
                f"--host {self.host}: the embedded target listens on loopback only "
                f"(127.0.0.1, ::1 or localhost), or on {TEST_LINKS} from inside a network "
                "namespace of the multi-host test's (ip netns authsurge-*)"
            )
        if not 0 <= self.port <= 65535:
            raise BadInput(f"--port {self.port}: must be 0..65535 (0 picks a free port)")
        if self.topology not in TOPOLOGIES:
            raise BadInput(f"--topology {self.topology}: one of {', '.join(TOPOLOGIES)}")
        if self.topology == "split" and self.certfile is not None:
            raise BadInput("--certfile: HTTPS is served in the shared topology only")
        for name in (
            "workers",
            "threads",
            "api_workers",
            "api_threads",
            "users",
            "hasher_iterations",
        ):
            if getattr(self, name) < 1:
                raise BadInput(f"--{name.replace('_', '-')} must be at least 1")
        if self.hasher_iterations > 10_000_000:
            raise BadInput("--hasher-iterations above 10,000,000 would make one login take seconds")
        if self.users > 1_000_000:
            raise BadInput("--users: at most 1,000,000")
        if self.login_capacity is not None and not (0 < self.login_capacity <= 100_000):
            raise BadInput("--login-capacity must be a rate in (0, 100000] password checks/s")
        if self.login_queue is not None and self.login_queue < 0:
            raise BadInput("--login-queue must be 0 or more")
        if self.login_queue is not None and self.login_capacity is None:
            raise BadInput("--login-queue only makes sense with --login-capacity")
        if not (0 <= self.delay_ms <= 60_000):
            raise BadInput("--delay-ms must be 0..60000")
        if self.per_ip_limit is not None and not 1 <= self.per_ip_limit <= 1_000_000:
            raise BadInput("--per-ip-limit must be 1..1000000 requests a second")
        for name in ("token_lifetime_s", "session_age_s"):
            value = getattr(self, name)
            if value is not None and not 1 <= value <= 30 * 86400:
                flag = "--" + name.removesuffix("_s").replace("_", "-")
                raise BadInput(f"{flag} must be 1..2592000 seconds")
        self._check_signup()
        if not 1 <= self.device_code_lifetime_s <= MAX_DEVICE_CODE_LIFETIME_S:
            raise BadInput(
                f"--device-code-lifetime must be 1..{MAX_DEVICE_CODE_LIFETIME_S} seconds"
            )
        if not 1 <= self.device_interval_s <= MAX_DEVICE_INTERVAL_S:
            raise BadInput(f"--device-interval must be 1..{MAX_DEVICE_INTERVAL_S} seconds")
        if self.mfa_users is not None:
            if not self.app_login:
                raise BadInput("--mfa-users only makes sense with --app-login")
            if not 0 <= self.mfa_users <= MAX_MFA_USERS:
                raise BadInput(f"--mfa-users must be 0..{MAX_MFA_USERS}")
        if (self.certfile is None) != (self.keyfile is None):
            raise BadInput("--certfile and --keyfile go together (HTTPS needs both)")
        for name in ("certfile", "keyfile"):
            path = getattr(self, name)
            if path is not None and not Path(path).is_file():
                raise BadInput(f"--{name} {path}: no such file")
        return self

    def _check_signup(self) -> None:
        if self.signup_verification not in SIGNUP_VERIFICATIONS:
            raise BadInput(
                f"--signup-verification {self.signup_verification}: "
                f"one of {', '.join(SIGNUP_VERIFICATIONS)}"
            )
        if self.smtp_port is not None and not 1 <= self.smtp_port <= 65535:
            raise BadInput(f"--smtp-port {self.smtp_port}: must be 1..65535")
        for name in ("magic_link_max_age_s", "login_code_timeout_s"):
            if not 1 <= getattr(self, name) <= 86400:
                raise BadInput(f"{name} must be 1..86400 seconds")
        if self.signup and self.smtp_port is None:
            raise BadInput(
                "--signup needs --smtp-port: the target sends real mail (verification links, "
                "sign-in codes) to an SMTP server on 127.0.0.1, e.g. authsurge's mail sink"
            )
        if self.signup_rate_limits and not (self.signup or self.app_login):
            raise BadInput("--signup-rate-limits only makes sense with --signup or --app-login")
        if not self.signup:
            for name, default in (("smtp_port", None), ("signup_verification", "link")):
                if getattr(self, name) != default:
                    raise BadInput(f"--{name.replace('_', '-')} only makes sense with --signup")
            if self.magic_link_max_age_s != DEFAULT_MAGIC_LINK_MAX_AGE_S:
                raise BadInput("magic_link_max_age_s only makes sense with signup")
            if self.login_code_timeout_s != DEFAULT_LOGIN_CODE_TIMEOUT_S:
                raise BadInput("login_code_timeout_s only makes sense with signup")

    @property
    def scheme(self) -> str:
        return "https" if self.certfile is not None else "http"

    @property
    def mfa_count(self) -> int:
        """How many mfaNNNN accounts the target has (0 without app_login)."""
        if not self.app_login:
            return 0
        return DEFAULT_MFA_USERS if self.mfa_users is None else self.mfa_users

    @property
    def queue(self) -> int:
        """The login wait queue actually used (capacity mode only)."""
        if self.login_queue is not None:
            return self.login_queue
        return max(1, math.ceil(self.login_capacity or 0))


# authsurge's multi-host test gives the network namespaces it makes (`ip netns add
# authsurge-...`, tests/support/netns.py) addresses from here. Link-local addresses can
# also be on a real network card, so the target listens on one only from inside such a
# namespace. Nothing else that is not loopback is ever served (or loaded).
TEST_LINKS = ipaddress.ip_network("169.254.77.0/24")
NAMED_NAMESPACES = Path("/run/netns")  # where `ip netns add` keeps its namespaces


def is_listenable(host: str) -> bool:
    """Loopback, or a host address of the multi-host test's links (TEST_LINKS) from inside
    one of its network namespaces."""
    if is_loopback(host):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return address in list(TEST_LINKS.hosts()) and in_test_namespace()


def in_test_namespace() -> bool:
    """Whether this process runs in a network namespace named `authsurge-*` by `ip netns`
    (False when that cannot be told)."""
    try:
        own = os.stat("/proc/self/ns/net")
        named = [os.stat(p) for p in NAMED_NAMESPACES.glob("authsurge-*")]
    except OSError:
        return False
    return any((n.st_dev, n.st_ino) == (own.st_dev, own.st_ino) for n in named)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def url_host(host: str) -> str:
    """The host as it appears in a URL (IPv6 in brackets)."""
    host = host.strip("[]")
    return f"[{host}]" if ":" in host else host


def server_env(
    opts: TargetOptions, data_dir: Path, port: int, *, role: str = "auth", public_port: int = 0
) -> dict[str, str]:
    """Environment variables that configure the Django settings and the gunicorn config.

    `port` is where this gunicorn pool listens; `public_port` the base URL's port when a
    proxy is in front (split topology), which is what issuer URLs and redirects name.
    `role` "api" is the split topology's API pool: it never prepares the data dir.
    """
    api = role == "api"
    env = {
        "AUTHSURGE_TARGET_DATA_DIR": str(data_dir),
        "AUTHSURGE_TARGET_HOST": opts.host,
        "AUTHSURGE_TARGET_PORT": str(port),
        "AUTHSURGE_TARGET_PUBLIC_PORT": str(public_port or port),
        "AUTHSURGE_TARGET_ROLE": role,
        "AUTHSURGE_TARGET_BEHIND_PROXY": "1" if opts.topology == "split" else "0",
        "AUTHSURGE_TARGET_WORKERS": str(opts.api_workers if api else opts.workers),
        "AUTHSURGE_TARGET_THREADS": str(opts.api_threads if api else opts.threads),
        "AUTHSURGE_TARGET_HASHER_ITERATIONS": str(opts.hasher_iterations),
        "AUTHSURGE_TARGET_DELAY_MS": repr(float(opts.delay_ms)),
        "AUTHSURGE_TARGET_DEVICE_CODE_LIFETIME_S": str(opts.device_code_lifetime_s),
        "AUTHSURGE_TARGET_DEVICE_INTERVAL_S": str(opts.device_interval_s),
        "DJANGO_SETTINGS_MODULE": "authsurge.target.settings",
    }
    if opts.certfile is not None and opts.keyfile is not None:
        env["AUTHSURGE_TARGET_CERTFILE"] = str(Path(opts.certfile).resolve())
        env["AUTHSURGE_TARGET_KEYFILE"] = str(Path(opts.keyfile).resolve())
    if opts.access_log is not None:
        env["AUTHSURGE_TARGET_ACCESS_LOG"] = str(Path(opts.access_log).resolve())
    if opts.device_slow_down:
        env["AUTHSURGE_TARGET_DEVICE_SLOW_DOWN"] = "1"
    if opts.per_ip_limit is not None:
        env["AUTHSURGE_TARGET_PER_IP_LIMIT"] = str(opts.per_ip_limit)
    if opts.token_lifetime_s is not None:
        env["AUTHSURGE_TARGET_TOKEN_LIFETIME_S"] = str(opts.token_lifetime_s)
    if opts.session_age_s is not None:
        env["AUTHSURGE_TARGET_SESSION_AGE_S"] = str(opts.session_age_s)
    if opts.signup or opts.app_login:  # both load allauth, whose rate limits this keeps
        env["AUTHSURGE_TARGET_SIGNUP_RATE_LIMITS"] = "1" if opts.signup_rate_limits else "0"
    if opts.app_login:
        env["AUTHSURGE_TARGET_APP_LOGIN"] = "1"
    if opts.signup:
        env["AUTHSURGE_TARGET_SIGNUP"] = "1"
        env["AUTHSURGE_TARGET_SIGNUP_VERIFICATION"] = opts.signup_verification
        env["AUTHSURGE_TARGET_MAGIC_LINK_MAX_AGE_S"] = str(opts.magic_link_max_age_s)
        env["AUTHSURGE_TARGET_LOGIN_CODE_TIMEOUT_S"] = str(opts.login_code_timeout_s)
    if opts.smtp_port is not None:
        env["AUTHSURGE_TARGET_SMTP_PORT"] = str(opts.smtp_port)
    if opts.login_capacity is not None:
        env["AUTHSURGE_TARGET_LOGIN_CAPACITY"] = repr(float(opts.login_capacity))
        env["AUTHSURGE_TARGET_LOGIN_QUEUE"] = str(opts.queue)
    return env


_PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # so children import this authsurge


def child_env(
    opts: TargetOptions, data_dir: Path, port: int, *, role: str = "auth", public_port: int = 0
) -> dict[str, str]:
    """The whole environment of a child process with the target's settings: this one's,
    without other targets' AUTHSURGE_TARGET_* and without the secrets (the child reads
    the password hashes from the database), plus `server_env`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AUTHSURGE_TARGET_") and k not in (PASSWORD_ENV, CLIENT_SECRET_ENV)
    }
    env.update(server_env(opts, data_dir, port, role=role, public_port=public_port))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_PACKAGE_ROOT), env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env
