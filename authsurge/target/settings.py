"""Django settings of the embedded target, configured by AUTHSURGE_TARGET_* variables.

start_target sets the variables (authsurge.target.options.server_env) for the setup
process and for gunicorn; the data dir must already hold the keys (authsurge.target.keys).
"""

from __future__ import annotations

import os
from pathlib import Path

from authsurge.target.layout import APP_JWT_KEY_FILE, DB_FILE, RSA_KEY_FILE, SECRET_KEY_FILE


def _env(name: str, default: str | None = None) -> str:
    value = os.environ.get(f"AUTHSURGE_TARGET_{name}", default)
    if value is None:
        raise RuntimeError(
            f"AUTHSURGE_TARGET_{name} is not set: start the target with "
            "authsurge.target.start_target or `authsurge target serve`"
        )
    return value


AUTHSURGE_DATA_DIR = Path(_env("DATA_DIR")).resolve()
AUTHSURGE_HOST = _env("HOST", "127.0.0.1")
# the base URL's port (issuer, redirects): the proxy's in split topology, not this pool's
AUTHSURGE_PORT = int(_env("PUBLIC_PORT", _env("PORT", "8000")))
# split topology: nginx in front says who the client is (X-Real-IP, which it sets itself)
AUTHSURGE_BEHIND_PROXY = _env("BEHIND_PROXY", "0") == "1"
AUTHSURGE_HASHER_ITERATIONS = int(_env("HASHER_ITERATIONS"))
AUTHSURGE_DELAY_MS = float(_env("DELAY_MS", "0"))
AUTHSURGE_LOGIN_CAPACITY = float(_env("LOGIN_CAPACITY", "0")) or None
AUTHSURGE_LOGIN_QUEUE = int(_env("LOGIN_QUEUE", "0"))
AUTHSURGE_PER_IP_LIMIT = int(_env("PER_IP_LIMIT", "0")) or None
_url_host = f"[{AUTHSURGE_HOST}]" if ":" in AUTHSURGE_HOST else AUTHSURGE_HOST
_scheme = "https" if os.environ.get("AUTHSURGE_TARGET_CERTFILE") else "http"
AUTHSURGE_BASE_URL = f"{_scheme}://{_url_host}:{AUTHSURGE_PORT}"
# the device authorization grant (RFC 8628; authsurge.target.device, .slow_down)
AUTHSURGE_DEVICE_CODE_LIFETIME_S = int(_env("DEVICE_CODE_LIFETIME_S", "1800"))
AUTHSURGE_DEVICE_INTERVAL_S = int(_env("DEVICE_INTERVAL_S", "5"))
AUTHSURGE_DEVICE_SLOW_DOWN = _env("DEVICE_SLOW_DOWN", "0") == "1"
AUTHSURGE_DEVICE_CACHE = "device"  # the CACHES alias of the device flow's shared state

SECRET_KEY = (AUTHSURGE_DATA_DIR / SECRET_KEY_FILE).read_text().strip()
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "::1", "[::1]"]
if AUTHSURGE_HOST not in ALLOWED_HOSTS:  # a test link's address (options.is_listenable)
    ALLOWED_HOSTS.append(AUTHSURGE_HOST)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
]

MIDDLEWARE = [
    "authsurge.target.middleware.PerIpLimitMiddleware",
    "authsurge.target.middleware.DelayMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "authsurge.target.middleware.LoginCapacityMiddleware",
]

if AUTHSURGE_DEVICE_SLOW_DOWN:
    # after the delay (a slow target is slow for every poll), before sessions: a poll
    # it refuses costs two cache queries and nothing else
    MIDDLEWARE.insert(
        MIDDLEWARE.index("authsurge.target.middleware.DelayMiddleware") + 1,
        "authsurge.target.slow_down.SlowDownMiddleware",
    )

ROOT_URLCONF = "authsurge.target.urls"
WSGI_APPLICATION = "authsurge.target.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [Path(__file__).resolve().parent / "templates"],
        "APP_DIRS": True,  # DOT's consent and logout-confirmation templates
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
            ]
        },
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": AUTHSURGE_DATA_DIR / DB_FILE,
        # Several worker processes write (sessions, last_login, tokens): WAL lets readers
        # go on during a write; IMMEDIATE takes the write lock at BEGIN, so two
        # transactions never deadlock upgrading read locks (SQLITE_BUSY that the busy
        # timeout cannot retry); the busy timeout makes writers queue instead of failing.
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        },
        "CONN_MAX_AGE": 600,  # one connection per gunicorn thread, not one per request
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = ["authsurge.target.hashers.SurgePBKDF2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS: list[dict[str, str]] = []
AUTHENTICATION_BACKENDS = [
    "authsurge.target.backends.CapacityLimitedBackend"
    if AUTHSURGE_LOGIN_CAPACITY
    else "django.contrib.auth.backends.ModelBackend"
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/accounts/profile/"
LOGOUT_REDIRECT_URL = None  # render registration/logged_out.html (200)

STATIC_URL = "/static/"  # DOT's templates link their CSS; it is not served (nobody fetches it)

SESSION_ENGINE = "django.contrib.sessions.backends.db"
if _session_age := os.environ.get("AUTHSURGE_TARGET_SESSION_AGE_S"):
    SESSION_COOKIE_AGE = int(_session_age)
USE_TZ = True
TIME_ZONE = "UTC"
USE_I18N = False

OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": (AUTHSURGE_DATA_DIR / RSA_KEY_FILE).read_text(),
    # Fixed, not derived from each request's Host header: ID tokens and discovery carry
    # the same issuer whether a client says 127.0.0.1 or localhost.
    "OIDC_ISS_ENDPOINT": f"{AUTHSURGE_BASE_URL}/o",
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    # Log out at once when id_token_hint names the signed-in user; otherwise DOT shows
    # its own confirmation form (the spec's MUST-prompt cases).
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    "OAUTH2_VALIDATOR_CLASS": "authsurge.target.oidc.SurgeOAuth2Validator",
    "SCOPES": {
        "openid": "OpenID Connect",
        "profile": "Your user name",
        "email": "Your email address",
        "read": "Read access",
        "write": "Write access",
        "introspection": "Introspect tokens",
    },
    "DEFAULT_SCOPES": ["openid", "read"],
    "PKCE_REQUIRED": True,  # every authorization-code client, public or confidential
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,  # S256 only, as RFC 9700 asks; no "plain"
    "ROTATE_REFRESH_TOKEN": True,  # DOT's default, stated because the tests rely on it
    # the device authorization answer (RFC 8628 3.2): absolute URLs on our own base URL
    # (DOT has no default: null without these); the complete one pre-fills DOT's form
    "OAUTH_DEVICE_VERIFICATION_URI": f"{AUTHSURGE_BASE_URL}/o/device/",
    "OAUTH_DEVICE_VERIFICATION_URI_COMPLETE": (
        f"{AUTHSURGE_BASE_URL}/o/device/?user_code={{user_code}}"  # oauthlib's format()
    ),
    "DEVICE_FLOW_INTERVAL": AUTHSURGE_DEVICE_INTERVAL_S,
}
if _token_lifetime := os.environ.get("AUTHSURGE_TARGET_TOKEN_LIFETIME_S"):
    OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"] = int(_token_lifetime)

# The device flow's state that every gunicorn worker must see alike: which device codes
# were exchanged for a token (authsurge.target.device) and, with --device-slow-down,
# each code's last poll and interval (authsurge.target.slow_down). A table in the one
# database (Django's DatabaseCache; its add() is one IMMEDIATE transaction). Past
# MAX_ENTRIES Django culls rows, live ones too: a culled "exchanged" mark would let a
# code buy a second token, so the cap sits far above the codes alive at once.
# "default" stays Django's own per-process cache unless --app-login (below).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    AUTHSURGE_DEVICE_CACHE: {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "authsurge_device_cache",
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    },
}

# Mail: only the sign-up flows send any, to the SMTP server TargetOptions.smtp_port names
# on loopback (no TLS, no authentication), one connection per mail (Django's SMTP backend).
DEFAULT_FROM_EMAIL = SERVER_EMAIL = "authsurge-target@example.test"
if _smtp_port := os.environ.get("AUTHSURGE_TARGET_SMTP_PORT"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = "127.0.0.1"
    EMAIL_PORT = int(_smtp_port)
    EMAIL_USE_TLS = EMAIL_USE_SSL = False
    EMAIL_TIMEOUT = 10  # s; a provider that hangs fails the request, not the worker
else:  # nothing leaves the process (serving with --signup requires --smtp-port)
    EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"

# Sign-up with e-mail verification, sign-in by e-mailed code or link (TargetOptions.signup):
# django-allauth, configured here and loaded only when asked for, so the default target
# starts as fast as before. Its URLs are mounted after Django's own login and logout
# (authsurge.target.urls): those two pages stay Django's views.
AUTHSURGE_SIGNUP = _env("SIGNUP", "0") == "1"
# JSON sign-in for apps (TargetOptions.app_login): allauth's headless API, also below
AUTHSURGE_APP_LOGIN = _env("APP_LOGIN", "0") == "1"
if AUTHSURGE_SIGNUP or AUTHSURGE_APP_LOGIN:
    INSTALLED_APPS += ["allauth", "allauth.account"]
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
        "allauth.account.middleware.AccountMiddleware",
    )
    if _env("SIGNUP_RATE_LIMITS", "0") != "1":
        # allauth counts per client address (and per e-mail or account) in the default
        # cache: a load test from one address would measure the limits, not the target
        ACCOUNT_RATE_LIMITS = False
        MFA_RATE_LIMITS = False
if AUTHSURGE_SIGNUP:
    # allauth's backend, by user name (userNNNN) or e-mail, one password check per attempt;
    # it also refuses unverified addresses on Django's login view and keeps capacity mode
    AUTHENTICATION_BACKENDS = ["authsurge.target.signup_backend.SignupBackend"]
    ACCOUNT_LOGIN_METHODS = {"username", "email"}
    # e-mail and one password; allauth makes the user name from the e-mail's local part
    ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
    ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    # link (default): the mail's link confirms on GET, as a person clicking it expects;
    # code: the mail carries a code typed into /accounts/confirm-email/
    ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = _env("SIGNUP_VERIFICATION", "link") == "code"
    ACCOUNT_CONFIRM_EMAIL_ON_GET = True
    ACCOUNT_LOGIN_BY_CODE_ENABLED = True
    ACCOUNT_LOGIN_BY_CODE_TIMEOUT = int(_env("LOGIN_CODE_TIMEOUT_S", "180"))  # s
    ACCOUNT_DEFAULT_HTTP_PROTOCOL = _scheme  # links in mails: https when served with TLS
    ACCOUNT_EMAIL_SUBJECT_PREFIX = "[authsurge target] "
    # Sign-in by e-mailed link (authsurge.target.magic_link): django-sesame's signed
    # tokens. Its backend only reads a token (authenticate(sesame=...)) and never checks a
    # password; password checks (and capacity slots) stay SignupBackend's alone.
    AUTHENTICATION_BACKENDS += ["sesame.backends.ModelBackend"]
    SESAME_MAX_AGE = int(_env("MAGIC_LINK_MAX_AGE_S", "600"))  # s after the link was made
    # once: the token signs the user's last_login, which the sign-in changes (so does
    # any other sign-in of the user, and a password change)
    SESAME_ONE_TIME = True
if AUTHSURGE_APP_LOGIN:
    INSTALLED_APPS += ["allauth.headless", "allauth.mfa"]
    # The app client only (X-Session-Token, no cookies, no CSRF); the browser client
    # would add a second copy of every endpoint that nothing here uses.
    HEADLESS_CLIENTS = ("app",)
    # With --signup allauth's account pages are mounted and its login stages redirect to
    # them; without, none are, and headless-only mode lets allauth do without.
    HEADLESS_ONLY = not AUTHSURGE_SIGNUP
    # JWT strategy: the login answers meta.access_token (RS256, its own key) and
    # meta.refresh_token besides meta.session_token
    HEADLESS_TOKEN_STRATEGY = "allauth.headless.tokens.strategies.jwt.JWTTokenStrategy"
    HEADLESS_JWT_PRIVATE_KEY = (AUTHSURGE_DATA_DIR / APP_JWT_KEY_FILE).read_text()
    if _token_lifetime:  # --token-lifetime: for DOT's tokens and allauth's alike
        HEADLESS_JWT_ACCESS_TOKEN_EXPIRES_IN = int(_token_lifetime)
    MFA_SUPPORTED_TYPES = ["totp"]  # pyotp's defaults: SHA1, 6 digits, 30 s
    # prepared users (no e-mail address) pass mandatory verification; sign-up stays
    # closed without --signup (authsurge.target.app_login)
    ACCOUNT_ADAPTER = "authsurge.target.app_login.SurgeAccountAdapter"
    if not AUTHSURGE_SIGNUP:
        ACCOUNT_LOGIN_METHODS = {"username"}
        ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*"]
        ACCOUNT_EMAIL_VERIFICATION = "none"  # nobody has an address to verify
        # no "unknown account" mail on a password-reset request: it links to a sign-up
        # page, which headless-only mode does not have (allauth would answer 500)
        ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
    # allauth marks a TOTP code used in the default cache (one use per code and account);
    # Django's default, a cache per worker process, would let the same code in again on
    # another worker. A table in the one database is shared by all workers, and its add()
    # is atomic (a transaction, SQLite's IMMEDIATE mode); only allauth uses this cache.
    # Past MAX_ENTRIES Django culls expired rows first, then live ones: a culled mark
    # would let its code in again, so the cap sits far above 30 s of 2FA sign-ins.
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "authsurge_cache",
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Under load every 4xx (a wrong password, a 401) and every capacity 503 is expected:
    # logging each would fill gunicorn.log and cost CPU, so only real errors are kept.
    "filters": {
        "not_503": {
            "()": "django.utils.log.CallbackFilter",
            "callback": lambda record: getattr(record, "status_code", None) != 503,
        },
        # a confirmation link's key, a device flow's user code are in paths
        # (authsurge.target.redaction)
        "secret_paths": {"()": "authsurge.target.redaction.RedactSecretPaths"},
    },
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "filters": ["not_503", "secret_paths"]}
    },
    "loggers": {"django.request": {"level": "ERROR"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
}
