"""First-start setup of a data dir, run as `python -m authsurge.target.prepare --users N`.

Runs in its own process (start_target launches it) because Django settings can be
configured only once per process, and the caller may be a test session or the harness.
It migrates, creates the OIDC clients and the test users, and prints one JSON line that
says what it did (never a secret). The password and client secret come from
AUTHSURGE_PASSWORD and AUTHSURGE_CLIENT_SECRET.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

USERNAME_PATTERN = "user{n:04d}"
MARKER_FILE = "target.json"
MARKER_FORMAT = 1

REDIRECT_URI = "http://127.0.0.1/callback"
POST_LOGOUT_REDIRECT_URI = "http://127.0.0.1/logged-out"


def client_specs() -> list[dict[str, Any]]:
    from oauth2_provider.models import Application as A

    code = {"authorization_grant_type": A.GRANT_AUTHORIZATION_CODE, "redirect_uris": REDIRECT_URI,
            "post_logout_redirect_uris": POST_LOGOUT_REDIRECT_URI, "algorithm": A.RS256_ALGORITHM}
    return [
        {"client_id": "surge-public", "name": "Surge app (public, PKCE, no consent)",
         "client_type": A.CLIENT_PUBLIC, "skip_authorization": True, **code},
        {"client_id": "surge-consent", "name": "Surge app (public, PKCE, consent page)",
         "client_type": A.CLIENT_PUBLIC, "skip_authorization": False, **code},
        {"client_id": "surge-confidential", "name": "Surge web backend (confidential)",
         "client_type": A.CLIENT_CONFIDENTIAL, "skip_authorization": True, **code},
        {"client_id": "surge-service", "name": "Surge service (client credentials)",
         "client_type": A.CLIENT_CONFIDENTIAL, "skip_authorization": True,
         "authorization_grant_type": A.GRANT_CLIENT_CREDENTIALS, "redirect_uris": "",
         "post_logout_redirect_uris": "", "algorithm": A.RS256_ALGORITHM},
    ]


def ensure_clients(client_secret: str) -> tuple[list[str], list[str]]:
    """Create missing clients, bring existing ones back to spec; (created, updated) ids."""
    from django.contrib.auth.hashers import check_password, identify_hasher
    from oauth2_provider.models import Application

    created: list[str] = []
    updated: list[str] = []
    for spec in client_specs():
        app = Application.objects.filter(client_id=spec["client_id"]).first()
        is_new = app is None
        app = app or Application(client_id=spec["client_id"])
        changed = is_new
        for key, value in spec.items():
            if getattr(app, key) != value:
                setattr(app, key, value)
                changed = True
        if app.client_type == Application.CLIENT_CONFIDENTIAL:
            # DOT hashes client_secret on save (hash_client_secret=True, its default), so
            # we hand it the plaintext; re-hash only when the secret or the work factor
            # changed since the last start.
            stored = app.client_secret or ""
            try:
                stale = identify_hasher(stored).must_update(stored) or not check_password(client_secret, stored)
            except ValueError:
                stale = True
            if stale:
                app.hash_client_secret = True
                app.client_secret = client_secret
                changed = True
        if changed:
            app.save()
            (created if is_new else updated).append(app.client_id)
    return created, updated


def ensure_users(count: int, password: str) -> dict[str, Any]:
    """user0001..userNNNN with the shared password: one hash, bulk inserts."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import check_password, identify_hasher, make_password
    from django.db import transaction

    User = get_user_model()
    started = time.monotonic()
    # One hash for everyone (same salt too): hashing 10,000 times would take minutes, and
    # a per-user salt protects nothing in a test target whose password is shared anyway.
    encoded = make_password(password)
    rehashed = 0
    sample = User.objects.order_by("pk").values_list("password", flat=True).first()
    if sample is not None:
        try:
            stale = identify_hasher(sample).must_update(sample) or not check_password(password, sample)
        except ValueError:
            stale = True
        if stale:  # password or --hasher-iterations changed since the last start
            rehashed = User.objects.update(password=encoded)
    existing = set(User.objects.values_list("username", flat=True))
    missing = [name for name in (USERNAME_PATTERN.format(n=n) for n in range(1, count + 1))
               if name not in existing]
    with transaction.atomic():
        User.objects.bulk_create([User(username=name, password=encoded) for name in missing],
                                 batch_size=1000)
    return {"users_created": len(missing), "users_total": len(existing) + len(missing),
            "users_rehashed": rehashed, "users_s": round(time.monotonic() - started, 2)}


def write_marker(data_dir: Path, summary: dict[str, Any], iterations: int) -> None:
    from authsurge import __version__

    path = data_dir / MARKER_FILE
    try:
        marker = json.loads(path.read_text())
    except (OSError, ValueError):
        marker = {"format_version": MARKER_FORMAT, "created_at": time.time()}
    marker.update({
        "updated_at": time.time(), "authsurge": __version__, "users": summary["users_total"],
        "username_pattern": USERNAME_PATTERN, "hasher_iterations": iterations,
        "clients": [c["client_id"] for c in client_specs()],
        "redirect_uri": REDIRECT_URI, "post_logout_redirect_uri": POST_LOGOUT_REDIRECT_URI,
    })
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(marker, indent=2) + "\n")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m authsurge.target.prepare")
    parser.add_argument("--users", type=int, required=True)
    args = parser.parse_args(argv)
    password = os.environ.get("AUTHSURGE_PASSWORD", "")
    client_secret = os.environ.get("AUTHSURGE_CLIENT_SECRET", "")
    if not password or not client_secret:
        print("AUTHSURGE_PASSWORD and AUTHSURGE_CLIENT_SECRET must be set", file=sys.stderr)
        return 2

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authsurge.target.settings")
    import django
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    django.setup()
    started = time.monotonic()
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        call_command("migrate", verbosity=0, interactive=False)
    summary: dict[str, Any] = {"migrations_applied": len(pending),
                               "migrate_s": round(time.monotonic() - started, 2)}
    summary["clients_created"], summary["clients_updated"] = ensure_clients(client_secret)
    summary.update(ensure_users(args.users, password))
    write_marker(Path(settings.AUTHSURGE_DATA_DIR), summary, settings.AUTHSURGE_HASHER_ITERATIONS)
    connection.close()
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
