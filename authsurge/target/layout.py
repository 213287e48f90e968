"""Names of the files in a target's data dir (one place, so every module agrees)."""

DB_FILE = "db.sqlite3"  # SQLite, WAL mode
SECRET_KEY_FILE = "secret_key"  # Django SECRET_KEY, 0600, made once
RSA_KEY_FILE = "oidc_rsa.pem"  # RS256 signing key of ID tokens, 0600, made once
APP_JWT_KEY_FILE = "app_jwt_rsa.pem"  # --app-login: RS256 key of allauth's JWTs, 0600, made once
MFA_SECRETS_FILE = "mfa-secrets.csv"  # --app-login: username,totp_secret of mfaNNNN, 0600
MARKER_FILE = "target.json"  # what the data dir holds: users, iterations, clients
PREPARED_FILE = "prepared.json"  # what the last start's setup did (written by the gunicorn master)
PID_FILE = "target.pid"  # the gunicorn master's PID, first token (authsurge.resources reads it)
STATE_FILE = "serve.json"  # where the running target listens and how it was started
LOG_FILE = "gunicorn.log"  # warnings and errors; no access log
SLOT_FILE = "login_slots.bin"  # capacity mode: the last slot handed out (float64)
HASH_CPU_DIR = "hash-cpu"  # per worker: hashes computed and their thread CPU (hash_cpu.py)
API_LOG_FILE = "split.log"  # split topology: the API pool's and nginx's warnings and errors
COMPANIONS = ("proxy", "api")  # split topology: <name>.pid, stopped in this order
PROXY_DIR = "proxy"  # split topology: nginx.conf, its pid, error log and temp paths


def companion_pid_file(name: str) -> str:
    """The PID file of a split topology's companion ("api" or "proxy")."""
    return f"{name}.pid"
