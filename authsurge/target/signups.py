"""Remove the accounts a load test signed up (`authsurge target reset-signups`).

Sign-up journeys use addresses on reserved domains, e.g.
`surge-<runid>-<n>@signup.example.test`. The rule: a user is a sign-up, and is removed
with its e-mail addresses (allauth's EmailAddress rows) and tokens, when its e-mail
address, or one of its allauth addresses, is on the reserved top-level domain `.test` or
`.example` (RFC 2606 / RFC 6761: no real mailbox is ever there). Never removed: the
prepared users user0001..userNNNN (they have no e-mail address at all, and their names
are kept as a second guard) and staff or superusers.

It works whether the target runs or not: `reset_signups` runs `python -m
authsurge.target.signups` with the target's settings (as the gunicorn master prepares the
data dir, since Django can be set up once per process and the caller must not), which
deletes through Django's ORM on the data dir's SQLite database and prints one JSON line.
Sessions of removed users stay in the database and sign no one in.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from authsurge.errors import BadInput
from authsurge.target.layout import DB_FILE, MARKER_FILE, RSA_KEY_FILE, SECRET_KEY_FILE
from authsurge.target.options import TargetOptions, child_env
from authsurge.target.prepare import USERNAME_PATTERN

RESERVED_TLDS = ("test", "example")
"""Top-level domains no real mailbox is on (RFC 2606 / RFC 6761)."""
EMAIL_ADDRESS_TABLE = "account_emailaddress"  # allauth's, there once served with --signup
RESET_TIMEOUT_S = 300.0
CHUNK = 500  # users deleted per query


@dataclass(frozen=True)
class ResetResult:
    users_removed: int
    """Signed-up accounts removed."""
    addresses_removed: int
    """Their allauth e-mail addresses removed with them."""
    users_kept: int
    """Users left in the database (the prepared ones, and any others)."""


def reset_signups(data_dir: Path) -> ResetResult:
    """Remove the signed-up accounts from the target's data dir (running or stopped).

    Raises BadInput when the data dir holds no prepared target; RuntimeError when the
    deleting process fails (its stderr says why)."""
    data_dir = Path(data_dir).expanduser().resolve()
    missing = [n for n in (DB_FILE, SECRET_KEY_FILE, RSA_KEY_FILE) if not (data_dir / n).is_file()]
    if missing:
        raise BadInput(
            f"{data_dir} holds no prepared target ({', '.join(missing)} missing): "
            "nothing to reset; start it once with `authsurge target serve`"
        )
    # the settings of a target with sign-up, so allauth's models are loaded; no mail is sent
    # (no SMTP port: Django's dummy backend) and nothing listens (port 0 is never bound)
    env = child_env(TargetOptions(data_dir=data_dir, signup=True), data_dir, 0)
    done = subprocess.run(
        [sys.executable, "-m", "authsurge.target.signups"],
        env=env,
        capture_output=True,
        text=True,
        timeout=RESET_TIMEOUT_S,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise RuntimeError(
            f"removing the sign-ups from {data_dir} failed (exit {done.returncode}):\n{tail}"
        )
    return ResetResult(**json.loads(lines[-1]))


def prepared_names(data_dir: Path) -> set[str]:
    """user0001..userNNNN as the data dir's marker counts them (none without a marker)."""
    try:
        count = int(json.loads((data_dir / MARKER_FILE).read_text()).get("users", 0))
    except (OSError, ValueError, TypeError, AttributeError):
        count = 0
    return {USERNAME_PATTERN.format(n=n) for n in range(1, count + 1)}


def remove_signups(keep: set[str]) -> dict[str, Any]:
    """Delete the sign-ups (the rule in the module docstring), never a user named in
    `keep`; Django must be set up with the target's settings."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.db.models import Q

    User = get_user_model()
    on_reserved = Q()  # the field is `email` in both User and allauth's EmailAddress
    for tld in RESERVED_TLDS:
        on_reserved |= Q(email__iendswith=f".{tld}") | Q(email__iendswith=f"@{tld}")
    signed_up = on_reserved
    if EMAIL_ADDRESS_TABLE in connection.introspection.table_names():
        from allauth.account.models import EmailAddress

        signed_up |= Q(pk__in=EmailAddress.objects.filter(on_reserved).values("user_id"))
    candidates = User.objects.filter(signed_up, is_staff=False, is_superuser=False)
    doomed = [pk for pk, name in candidates.values_list("pk", "username") if name not in keep]
    removed: dict[str, int] = {}
    with transaction.atomic():
        for i in range(0, len(doomed), CHUNK):  # SQLite bounds the parameters of a query
            _, per_model = User.objects.filter(pk__in=doomed[i : i + CHUNK]).delete()
            for label, n in per_model.items():
                removed[label] = removed.get(label, 0) + n
    return {
        "users_removed": removed.get(settings.AUTH_USER_MODEL, 0),
        "addresses_removed": removed.get("account.EmailAddress", 0),
        "users_kept": User.objects.count(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """The child `reset_signups` starts: set Django up, delete, print one JSON line."""
    argparse.ArgumentParser(description=main.__doc__).parse_args(argv)
    import django
    from django.conf import settings

    django.setup()
    data_dir = Path(settings.AUTHSURGE_DATA_DIR)
    print(json.dumps(remove_signups(keep=prepared_names(data_dir))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
