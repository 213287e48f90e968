"""Setup of a data dir on every start: migrate, OIDC clients, cache tables, test users (and
with --app-login the TOTP accounts, authsurge.target.mfa_accounts).

It runs in the gunicorn master (`on_starting`, after the app is preloaded and before
the socket is bound or any worker forked): Django is set up there anyway, and Django
settings can be configured once per process only, so the caller (a test session, the
harness) must not do it itself. start_target writes the password, client secret and
user counts as one JSON line to the master's stdin - never environment or argv, which
other local users can read - and waits for PREPARED_FILE, which says what was done
(never a secret).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from authsurge.target.layout import MARKER_FILE, PREPARED_FILE

USERNAME_PATTERN = "user{n:04d}"
MFA_USERNAME_PATTERN = "mfa{n:04d}"  # --app-login: the same password plus a TOTP factor
MFA_PREFIX = "mfa"
MARKER_FORMAT = 1

REDIRECT_URI = "http://127.0.0.1/callback"
POST_LOGOUT_REDIRECT_URI = "http://127.0.0.1/logged-out"


def client_specs() -> list[dict[str, Any]]:
    from oauth2_provider.models import Application as A

    code = {
        "authorization_grant_type": A.GRANT_AUTHORIZATION_CODE,
        "redirect_uris": REDIRECT_URI,
        "post_logout_redirect_uris": POST_LOGOUT_REDIRECT_URI,
        "algorithm": A.RS256_ALGORITHM,
    }
    return [
        {
            "client_id": "surge-public",
            "name": "Surge app (public, PKCE, no consent)",
            "client_type": A.CLIENT_PUBLIC,
            "skip_authorization": True,
            **code,
        },
        {
            "client_id": "surge-consent",
            "name": "Surge app (public, PKCE, consent page)",
            "client_type": A.CLIENT_PUBLIC,
            "skip_authorization": False,
            **code,
        },
        {
            "client_id": "surge-confidential",
            "name": "Surge web backend (confidential)",
            "client_type": A.CLIENT_CONFIDENTIAL,
            "skip_authorization": True,
            **code,
        },
        {
            "client_id": "surge-service",
            "name": "Surge service (client credentials)",
            "client_type": A.CLIENT_CONFIDENTIAL,
            "skip_authorization": True,
            "authorization_grant_type": A.GRANT_CLIENT_CREDENTIALS,
            "redirect_uris": "",
            "post_logout_redirect_uris": "",
            "algorithm": A.RS256_ALGORITHM,
        },
        {
            # resource-owner password credentials: an app posting the user's password to
            # /o/token/ (DOT checks it with django.contrib.auth.authenticate)
            "client_id": "surge-password",
            "name": "Surge app (password grant, confidential)",
            "client_type": A.CLIENT_CONFIDENTIAL,
            "skip_authorization": True,
            "authorization_grant_type": A.GRANT_PASSWORD,
            "redirect_uris": "",
            "post_logout_redirect_uris": "",
            "algorithm": A.RS256_ALGORITHM,
        },
        {
            # device authorization grant (RFC 8628): a TV or CLI shows the user code, a
            # person approves it on /o/device/ (DOT's pages always ask accept/deny)
            "client_id": "surge-device",
            "name": "Surge device (public, device authorization grant)",
            "client_type": A.CLIENT_PUBLIC,
            "skip_authorization": False,
            "authorization_grant_type": A.GRANT_DEVICE_CODE,
            "redirect_uris": "",
            "post_logout_redirect_uris": "",
            "algorithm": A.RS256_ALGORITHM,
        },
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
                stale = identify_hasher(stored).must_update(stored) or not check_password(
                    client_secret, stored
                )
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


def ensure_users(count: int, password: str, mfa_count: int = 0) -> dict[str, Any]:
    """user0001..userNNNN, and mfa0001..mfaNNNN (--app-login), with the shared password:
    one hash, bulk inserts.

    Accounts made by sign-up (--signup) have an e-mail address and their own password:
    they are neither re-hashed nor counted. The mfa accounts are counted apart."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import check_password, identify_hasher, make_password
    from django.db import transaction

    User = get_user_model()
    prepared = User.objects.filter(email="")
    started = time.monotonic()
    # One hash for everyone (same salt too): hashing 10,000 times would take minutes, and
    # a per-user salt protects nothing in a test target whose password is shared anyway.
    encoded = make_password(password)
    rehashed = 0
    sample = prepared.order_by("pk").values_list("password", flat=True).first()
    if sample is not None:
        try:
            stale = identify_hasher(sample).must_update(sample) or not check_password(
                password, sample
            )
        except ValueError:
            stale = True
        if stale:  # password or --hasher-iterations changed since the last start
            rehashed = prepared.update(password=encoded)
    existing = set(User.objects.values_list("username", flat=True))
    wanted = [USERNAME_PATTERN.format(n=n) for n in range(1, count + 1)]
    wanted_mfa = [MFA_USERNAME_PATTERN.format(n=n) for n in range(1, mfa_count + 1)]
    missing = [name for name in wanted if name not in existing]
    missing_mfa = [name for name in wanted_mfa if name not in existing]
    with transaction.atomic():
        User.objects.bulk_create(
            [User(username=name, password=encoded) for name in missing + missing_mfa],
            batch_size=1000,
        )
    summary = {
        "users_created": len(missing),
        "users_total": prepared.exclude(username__startswith=MFA_PREFIX).count(),
        "users_rehashed": rehashed,
        "users_s": round(time.monotonic() - started, 2),
    }
    if mfa_count:
        summary["mfa_users_created"] = len(missing_mfa)
    return summary


def write_marker(data_dir: Path, summary: dict[str, Any], iterations: int) -> None:
    from authsurge import __version__

    path = data_dir / MARKER_FILE
    try:
        marker = json.loads(path.read_text())
    except (OSError, ValueError):
        marker = {"format_version": MARKER_FORMAT, "created_at": time.time()}
    marker.update(
        {
            "updated_at": time.time(),
            "authsurge": __version__,
            "users": summary["users_total"],
            "username_pattern": USERNAME_PATTERN,
            "hasher_iterations": iterations,
            "clients": [c["client_id"] for c in client_specs()],
            "redirect_uri": REDIRECT_URI,
            "post_logout_redirect_uri": POST_LOGOUT_REDIRECT_URI,
        }
    )
    write_json(path, marker)


def write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def prepare(users: int, password: str, client_secret: str, mfa_users: int = 0) -> dict[str, Any]:
    """Bring the data dir's database up to date; returns what was done. Django must be set up.

    `mfa_users` counts only with --app-login (settings.AUTHSURGE_APP_LOGIN): allauth's
    MFA tables exist then."""
    from django.conf import settings
    from django.core.cache import caches
    from django.core.management import call_command
    from django.db import connections
    from django.db.migrations.executor import MigrationExecutor

    started = time.monotonic()
    executor = MigrationExecutor(connections["default"])
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        call_command("migrate", verbosity=0, interactive=False)
    summary: dict[str, Any] = {
        "migrations_applied": len(pending),
        "migrate_s": round(time.monotonic() - started, 2),
    }
    summary["clients_created"], summary["clients_updated"] = ensure_clients(client_secret)
    # the cache tables (settings.CACHES): the device flow's, with --app-login allauth's
    # used-codes cache; existing tables are kept
    call_command("createcachetable", verbosity=0)
    # Django's DatabaseCache deletes expired rows only past MAX_ENTRIES and counts the
    # table on every set: rows left by earlier runs (polls, used codes) would make each
    # write dearer, run after run on one data dir. What they guard lasts seconds: start clean.
    for alias in settings.CACHES:
        if "DatabaseCache" in settings.CACHES[alias]["BACKEND"]:
            caches[alias].clear()
    app_login = bool(settings.AUTHSURGE_APP_LOGIN)
    summary.update(ensure_users(users, password, mfa_users if app_login else 0))
    if app_login:
        from authsurge.target.mfa_accounts import ensure_totp

        summary.update(ensure_totp(Path(settings.AUTHSURGE_DATA_DIR)))
    write_marker(Path(settings.AUTHSURGE_DATA_DIR), summary, settings.AUTHSURGE_HASHER_ITERATIONS)
    # no connection may cross the fork into the workers
    connections.close_all()
    return summary


def prepare_from_stdin() -> None:
    """The gunicorn master's on_starting hook: read the request, prepare, report."""
    from django.conf import settings

    out = Path(settings.AUTHSURGE_DATA_DIR) / PREPARED_FILE
    try:
        request = json.loads(sys.stdin.readline() or "{}")
        users, password, client_secret = (
            request["users"],
            request["password"],
            request["client_secret"],
        )
        mfa_users = int(request.get("mfa_users", 0))
    except (ValueError, KeyError, TypeError):
        write_json(out, {"error": "no setup request on stdin (start the target with start_target)"})
        raise SystemExit(2) from None
    try:
        summary = prepare(int(users), password, client_secret, mfa_users)
    except Exception as exc:
        write_json(out, {"error": f"{type(exc).__name__}: {exc}"})
        raise
    write_json(out, summary)
