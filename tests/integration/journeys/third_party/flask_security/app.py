"""Flask-Security-Too's stock views (Flask-WTF CSRF) on 127.0.0.1, for authsurge's
third-party journey tests.  Usage: python app.py PORT  (password from FS_PASSWORD).

With FS_SMTP_PORT, also registration with a confirmation mail (/register, /confirm/<token>)
and unified sign-in (/us-signin) by password or by a code e-mailed with a login link
(/us-verify-link?id=...&code=...), all mail sent by Flask-Mailman to 127.0.0.1:FS_SMTP_PORT
(no TLS, no login). FS_CONFIRM_WITHIN_S shortens how long a confirmation link is good for
(default: Flask-Security's 2 days).

Only the framework's own configuration is here (and a signal hook any site offering
e-mailed codes to people with a password needs): authsurge logs in through its HTML form
with configuration only (no per-site code in the harness). Links and codes are secrets:
the request log shows neither.
"""

import logging
import os
import re
import sys
import threading
import time
from datetime import timedelta

from flask import Flask, render_template_string
from flask_security import (
    Security,
    SQLAlchemyUserDatastore,
    auth_required,
    current_user,
    hash_password,
    naive_utcnow,
    user_registered,
)
from flask_security.models import fsqla_v3 as fsqla
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

app = Flask(__name__)
app.config.update(
    SECRET_KEY="authsurge-test-only",
    SECURITY_PASSWORD_SALT="authsurge-test-only-salt",
    SECURITY_PASSWORD_HASH="pbkdf2_sha512",
    SQLALCHEMY_DATABASE_URI="sqlite://",
)
SMTP_PORT = os.environ.get("FS_SMTP_PORT")
if SMTP_PORT:
    from flask_mailman import Mail

    app.config.update(
        SECURITY_REGISTERABLE=True,
        SECURITY_SEND_REGISTER_EMAIL=True,  # the welcome mail carries the confirmation link
        SECURITY_CONFIRMABLE=True,
        SECURITY_UNIFIED_SIGNIN=True,
        SECURITY_US_ENABLED_METHODS=["password", "email"],
        SECURITY_TOTP_SECRETS={"1": "authsurge-test-only-totp-secret"},  # e-mailed codes are TOTPs
        SECURITY_TOTP_ISSUER="authsurge-test",
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
db = SQLAlchemy(app)
fsqla.FsModels.set_db_info(db)


class Role(db.Model, fsqla.FsRoleMixin):
    pass


class User(db.Model, fsqla.FsUserMixin):
    pass


datastore = SQLAlchemyUserDatastore(db, User, Role)
Security(app, datastore)
CSRFProtect(app)  # app-wide CSRF, as Flask-Security recommends: a missing token is a 400


@user_registered.connect_via(app)
def email_sign_in(sender, user, **extra):
    # Flask-Security sets up sign-in by e-mailed code only for people who register
    # without a password; those who choose one would have to add it on /us-setup
    datastore.us_setup_email(user)


class RedactSecrets(logging.Filter):
    """Request lines without the confirmation token or the login link's id and code."""

    SECRET = re.compile(r"(/confirm/|/us-verify-link\?)[^\s\"]+")

    def filter(self, record):
        if isinstance(record.args, tuple):
            record.args = tuple(self.SECRET.sub(r"\1<redacted>", a) if isinstance(a, str) else a
                                for a in record.args)
        return True


logging.getLogger("werkzeug").addFilter(RedactSecrets())


@app.route("/api/me")
@auth_required("session")
def me():
    return {"user": current_user.email}


@app.route("/account")
@auth_required("session")
def account():
    # The "Sign out" button most apps put in their navigation (logout is POST with CSRF).
    return render_template_string(
        '<p>{{ current_user.email }}</p><form action="{{ url_for_security("logout") }}" method="post">'
        '<input type="hidden" name="csrf_token" value="{{ csrf_token() }}"><button>Sign out</button></form>'
    )


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
        db.session.commit()
    threading.Thread(target=watch_owner, daemon=True).start()
    app.run(host="127.0.0.1", port=int(sys.argv[1]), threaded=True)
