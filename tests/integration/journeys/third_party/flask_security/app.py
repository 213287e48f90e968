"""Flask-Security-Too's stock views (Flask-WTF CSRF) on 127.0.0.1, for authsurge's
third-party journey tests.  Usage: python app.py PORT  (password from FS_PASSWORD).

With FS_SMTP_PORT, also registration with a confirmation mail (/register, /confirm/<token>)
and unified sign-in (/us-signin) by password or by a code e-mailed with a login link
(/us-verify-link?id=...&code=...), all mail sent by Flask-Mailman to 127.0.0.1:FS_SMTP_PORT
(no TLS, no login). FS_CONFIRM_WITHIN_S shortens how long a confirmation link is good for
(default: Flask-Security's 2 days).

With FS_TWO_FACTOR=1 (and FS_MFA_SECRETS_FILE=<path>), a site for apps and for second
factors as well:
- JSON sign-in on the stock /login: POST {"email", "password"} as application/json, no CSRF
  token (an app has no form to take one from). `/login?include_auth_token` adds
  response.user.authentication_token, which /api/me takes in the Authentication-Token header
  (Flask-Security's default TOKEN_MAX_AGE: good for 15 minutes) as it takes the session
  cookie. Accounts user0001..user0010 are signed in at once.
- Two-factor sign-in (SECURITY_TWO_FACTOR, method "authenticator": TOTP, SHA1, 6 digits,
  30 s) for mfa0001@example.org..mfa0010@example.org (password FS_PASSWORD). Each gets a
  random secret at start through Flask-Security's own API (totp_factory and
  datastore.tf_set, as an app does for accounts it sets up for its users), and
  FS_MFA_SECRETS_FILE gets them as CSV (header `username,totp_secret`, the base32 key an
  authenticator app is given; mode 0600). /login then answers JSON {"response":
  {"tf_required": true, "tf_state": "ready", ...}} or, for the HTML form, a redirect to
  /tf-validate, whose form (field `code`, and csrf_token) or JSON {"code"} completes the
  sign-in. Every sign-in asks for a code (TWO_FACTOR_ALWAYS_VALIDATE, the default).
- A code is good once: Flask-Security's Totp leaves replay protection to the site (its
  docstring: "doesn't implement any replay-attack protection out of the box"), and stock
  FS 5.9 takes the same code again and again for as long as it is in the window
  (TWO_FACTOR_AUTHENTICATOR_VALIDITY: 120 s either side). OneUsePerCode below keeps the
  last time step used per account, through the get/set_last_counter hooks FS documents for
  this (Security(totp_cls=...)), as a careful site does: a used code, or one of an earlier
  step, is "Invalid code" (400). So one account completes at most one sign-in per 30 s
  step. Kept in memory: one process.
- CSRF: Flask-WTF's check stays on every form POST, signed in or not (the HTML login and
  code pages carry csrf_token, as without FS_TWO_FACTOR), and on JSON from someone signed
  in by the session cookie (X-CSRFToken header: response.csrf_token of the sign-in); JSON
  from an app not (yet) signed in, or signed in by its token, needs none. That is what
  FS's SPA settings (CSRF_IGNORE_UNAUTH_ENDPOINTS, CSRF_PROTECT_MECHANISMS = ["session",
  "basic"]) intend, except that they also drop the check, and the csrf_token field, from
  the HTML login and code forms; hence csrf_unless_app_json below. A page on another site
  cannot POST application/json here without a CORS preflight, which this site never allows.

Only the framework's own configuration is here (and a signal hook any site offering
e-mailed codes to people with a password needs, and the two FS_TWO_FACTOR pieces above):
authsurge logs in through its HTML form or JSON with configuration only (no per-site code
in the harness). Links, codes, tokens and TOTP secrets are secrets: the request log shows
none of them (passwords and codes travel in request bodies, which it never shows).
"""

import csv
import logging
import os
import re
import sys
import threading
import time
from datetime import timedelta

from flask import Flask, g, render_template_string, request
from flask_security import (
    Security,
    SQLAlchemyUserDatastore,
    Totp,
    auth_required,
    current_user,
    get_request_attr,
    hash_password,
    naive_utcnow,
    user_registered,
)
from flask_security.models import fsqla_v3 as fsqla
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from passlib.exc import UsedTokenError

app = Flask(__name__)
app.config.update(
    SECRET_KEY="authsurge-test-only",
    SECURITY_PASSWORD_SALT="authsurge-test-only-salt",
    SECURITY_PASSWORD_HASH="pbkdf2_sha512",
    SQLALCHEMY_DATABASE_URI="sqlite://",
)
SMTP_PORT = os.environ.get("FS_SMTP_PORT")
TWO_FACTOR = os.environ.get("FS_TWO_FACTOR") == "1"
if SMTP_PORT or TWO_FACTOR:
    app.config.update(
        SECURITY_TOTP_SECRETS={"1": "authsurge-test-only-totp-secret"},  # encrypt the TOTP keys
        SECURITY_TOTP_ISSUER="authsurge-test",
    )
if SMTP_PORT:
    from flask_mailman import Mail

    app.config.update(
        SECURITY_REGISTERABLE=True,
        SECURITY_SEND_REGISTER_EMAIL=True,  # the welcome mail carries the confirmation link
        SECURITY_CONFIRMABLE=True,
        SECURITY_UNIFIED_SIGNIN=True,
        SECURITY_US_ENABLED_METHODS=["password", "email"],  # e-mailed codes are TOTPs
        # sign-ups use reserved .test domains, which email_validator refuses by default
        SECURITY_EMAIL_VALIDATOR_ARGS={"test_environment": True},
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=int(SMTP_PORT),
        MAIL_USE_TLS=False,
        MAIL_USE_SSL=False,
        MAIL_DEFAULT_SENDER="no-reply@flask-security.example.test",
    )
    if os.environ.get("FS_CONFIRM_WITHIN_S"):
        within = timedelta(seconds=float(os.environ["FS_CONFIRM_WITHIN_S"]))
        app.config["SECURITY_CONFIRM_EMAIL_WITHIN"] = within
    Mail(app)
if TWO_FACTOR:
    MFA_SECRETS_FILE = os.environ.get("FS_MFA_SECRETS_FILE")
    if not MFA_SECRETS_FILE:
        sys.exit("FS_TWO_FACTOR=1 needs FS_MFA_SECRETS_FILE (where the TOTP secrets go)")
    app.config.update(
        SECURITY_TWO_FACTOR=True,
        SECURITY_TWO_FACTOR_ENABLED_METHODS=["authenticator"],
        WTF_CSRF_CHECK_DEFAULT=False,  # csrf_unless_app_json decides instead
    )
db = SQLAlchemy(app)
fsqla.FsModels.set_db_info(db)


class Role(db.Model, fsqla.FsRoleMixin):
    pass


class User(db.Model, fsqla.FsUserMixin):
    pass


class OneUsePerCode(Totp):
    """Flask-Security's TOTP, rejecting a code whose time step (or an earlier one) the
    account has already used: the replay protection FS leaves to get/set_last_counter."""

    def __init__(self, secrets, issuer):
        super().__init__(secrets, issuer)
        self._last_counters: dict[str, int] = {}
        self._lock = threading.Lock()

    def get_last_counter(self, user):
        return self._last_counters.get(user.fs_uniquifier)

    def set_last_counter(self, user, tmatch):
        # Checked again under the lock: of two requests racing with one code, both may pass
        # passlib's check against get_last_counter. verify_totp takes this TokenError as a
        # wrong code.
        with self._lock:
            last = self._last_counters.get(user.fs_uniquifier)
            if last is not None and tmatch.counter <= last:
                raise UsedTokenError(expire_time=tmatch.expire_time)
            self._last_counters[user.fs_uniquifier] = tmatch.counter


datastore = SQLAlchemyUserDatastore(db, User, Role)
csrf = CSRFProtect(app)  # app-wide CSRF, as Flask-Security recommends: a missing token is a 400
security = Security(app, datastore, totp_cls=OneUsePerCode if TWO_FACTOR else Totp)

if TWO_FACTOR:

    @app.before_request
    def csrf_unless_app_json():
        """Flask-WTF's check (WTF_CSRF_CHECK_DEFAULT's, turned off above) except for JSON
        from a caller not signed in by the session cookie (app sign-in, code, token)."""
        by_cookie = current_user.is_authenticated and get_request_attr("fs_authn_via") == "session"
        if request.is_json and not by_cookie:
            g.csrf_valid = True  # what Flask-WTF and Flask-Security's own checks look at
        else:
            csrf.protect(apply_exemptions=True)


@user_registered.connect_via(app)
def email_sign_in(sender, user, **extra):
    # Flask-Security sets up sign-in by e-mailed code only for people who register
    # without a password; those who choose one would have to add it on /us-setup
    datastore.us_setup_email(user)


class RedactSecrets(logging.Filter):
    """Request lines without the confirmation token, the login link's id and code, or an
    auth token sent as ?auth_token= (Flask-Security takes it there too)."""

    SECRETS = (re.compile(r"(/confirm/|/us-verify-link\?)[^\s\"]+"),
               re.compile(r"([?&]auth_token=)[^&\s\"]+"))

    def filter(self, record):
        if isinstance(record.args, tuple):
            record.args = tuple(self.redact(a) if isinstance(a, str) else a for a in record.args)
        return True

    def redact(self, text: str) -> str:
        for secret in self.SECRETS:
            text = secret.sub(r"\1<redacted>", text)
        return text


logging.getLogger("werkzeug").addFilter(RedactSecrets())


@app.route("/api/me")
@auth_required("token", "session")
def me():
    # auth: "token" (Authentication-Token header) or "session" (the cookie)
    return {"user": current_user.email, "auth": get_request_attr("fs_authn_via")}


@app.route("/account")
@auth_required("session")
def account():
    # The "Sign out" button most apps put in their navigation (logout is POST with CSRF).
    return render_template_string(
        '<p>{{ current_user.email }}</p><form action="{{ url_for_security("logout") }}" method="post">'
        '<input type="hidden" name="csrf_token" value="{{ csrf_token() }}"><button>Sign out</button></form>'
    )


def provision_mfa_accounts(password_hash: str, secrets_file: str) -> None:
    """mfa0001..mfa0010 with an authenticator app set up, as an app that enrols its own
    users would (tf_set); their base32 keys to secrets_file, readable by its owner only."""
    rows = []
    for n in range(1, 11):
        email = f"mfa{n:04d}@example.org"
        user = datastore.create_user(email=email, password=password_hash, confirmed_at=naive_utcnow())
        secret = security.totp_factory.generate_totp_secret()  # random; stored encrypted
        datastore.tf_set(user, "authenticator", totp_secret=secret)
        rows.append((email, security.totp_factory.get_totp_b32_key(secret)))
    fd = os.open(secrets_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # also when the file was there already
    with os.fdopen(fd, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(("username", "totp_secret"))
        writer.writerows(rows)


def watch_owner() -> None:
    """Exit with the test process that started us, should it die without stopping us."""
    owner = int(os.environ.get("FS_OWNER_PID", "0"))
    while owner:
        try:
            os.kill(owner, 0)
        except OSError:
            os._exit(0)
        time.sleep(1)


if __name__ == "__main__":
    with app.app_context():
        db.create_all()
        password = hash_password(os.environ["FS_PASSWORD"])
        for n in range(1, 11):
            datastore.create_user(email=f"user{n:04d}@example.org", password=password,
                                  confirmed_at=naive_utcnow())  # signed up long ago
        if TWO_FACTOR:
            provision_mfa_accounts(password, MFA_SECRETS_FILE)
        db.session.commit()
    threading.Thread(target=watch_owner, daemon=True).start()
    app.run(host="127.0.0.1", port=int(sys.argv[1]), threaded=True)
