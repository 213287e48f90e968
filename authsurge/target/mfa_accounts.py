"""The TOTP accounts of --app-login: an allauth TOTP authenticator for each mfaNNNN, and
mfa-secrets.csv, the file a harness computes their codes from.

prepare (in the gunicorn master, Django set up, allauth.mfa installed) creates the
users; this gives each one without an authenticator a fresh random secret, stored as
allauth stores one it activated itself (`Authenticator(type=TOTP, data={"secret":
encrypt(secret)})`, allauth.mfa.totp.internal.auth.TOTP.activate), in bulk. The secrets
live in the database, so a restart on the same data dir keeps them; the file is written
again from the database on every start, mode 0600, and never logged.
"""

from __future__ import annotations

import csv
import io
import re
import time
from pathlib import Path
from typing import Any

from authsurge.target.keys import write_private
from authsurge.target.layout import MFA_SECRETS_FILE

CSV_HEADER = ("username", "totp_secret")
_MFA_NAME = re.compile(r"^mfa[0-9]+$")  # prepare.MFA_USERNAME_PATTERN's names


def ensure_totp(data_dir: Path) -> dict[str, Any]:
    """Give every mfaNNNN without one a TOTP authenticator, write mfa-secrets.csv; returns
    counts (never a secret)."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import generate_totp_secret
    from allauth.mfa.utils import decrypt, encrypt
    from django.contrib.auth import get_user_model
    from django.db import transaction

    started = time.monotonic()
    User = get_user_model()
    mfa_users = User.objects.filter(username__regex=_MFA_NAME.pattern, email="")
    accounts = dict(mfa_users.values_list("pk", "username"))
    # a subquery, not a list of ids: SQLite caps the parameters of one statement
    totp = Authenticator.objects.filter(type=Authenticator.Type.TOTP, user__in=mfa_users)
    have = set(totp.values_list("user_id", flat=True))
    missing = [pk for pk in accounts if pk not in have]
    with transaction.atomic():
        Authenticator.objects.bulk_create(
            [
                # allauth's own generator (20 random bytes, base32) and storage hook
                Authenticator(
                    user_id=pk,
                    type=Authenticator.Type.TOTP,
                    data={"secret": encrypt(generate_totp_secret())},
                )
                for pk in missing
            ],
            batch_size=1000,
        )
    rows = sorted(
        (
            (accounts[pk], decrypt(data["secret"]))
            for pk, data in totp.values_list("user_id", "data")
        ),
        key=lambda row: (len(row[0]), row[0]),  # mfa0002 before mfa0010 before mfa10000
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(rows)
    write_private(data_dir / MFA_SECRETS_FILE, out.getvalue().encode())
    return {
        "mfa_totp_created": len(missing),
        "mfa_accounts": len(rows),
        "mfa_s": round(time.monotonic() - started, 2),
    }
