"""Flask-Security-Too's stock login view (Flask-WTF CSRF) on 127.0.0.1, for authsurge's
third-party journey tests.  Usage: python app.py PORT  (password from FS_PASSWORD).

Only the framework's own configuration is here: authsurge logs in through its HTML form
with configuration only (no per-site code in the harness).
"""

import os
import sys
import threading
import time

from flask import Flask, render_template_string
from flask_security import (
    Security,
    SQLAlchemyUserDatastore,
    auth_required,
    current_user,
    hash_password,
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
db = SQLAlchemy(app)
fsqla.FsModels.set_db_info(db)


class Role(db.Model, fsqla.FsRoleMixin):
    pass


class User(db.Model, fsqla.FsUserMixin):
    pass


datastore = SQLAlchemyUserDatastore(db, User, Role)
Security(app, datastore)
CSRFProtect(app)  # app-wide CSRF, as Flask-Security recommends: a missing token is a 400


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
            datastore.create_user(email=f"user{n:04d}@example.org", password=password)
        db.session.commit()
    threading.Thread(target=watch_owner, daemon=True).start()
    app.run(host="127.0.0.1", port=int(sys.argv[1]), threaded=True)
