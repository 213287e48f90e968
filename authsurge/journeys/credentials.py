"""Who logs in: accounts from a pattern or a CSV, the shared password, client secrets.

Each concurrent journey holds a distinct account (two people typing the same username at
once is not a surge, it is a lock test). Workers take disjoint slices of the accounts so
that no account is in use on two workers at once. Passwords and client secrets stay
`Secret`s from the moment they are read; nothing here ever formats their values.
"""

from __future__ import annotations

import base64
import binascii
import csv
import os
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from authsurge.errors import BadInput
from authsurge.scenario import AccountSet, ClientConfig, Scenario
from authsurge.secret import Secret, load_secret

# Step groups that type a password, and those that talk to the OIDC client.
PASSWORD_GROUPS = frozenset(
    ("form_login", "oidc_login", "json_login", "password_grant", "device_login")
)
OIDC_CLIENT_GROUPS = frozenset(
    ("oidc_login", "oidc_logout", "token_refresh", "token_revoke", "token_introspect", "userinfo")
)  # and device_login without flows.device.client_id
_HEADER_NAMES = frozenset(("username", "user", "login", "email", "name", "account"))


@dataclass(frozen=True)
class Account:
    username: str
    password: Secret = field(repr=False)
    index: int = 0  # position in the full list (before the worker slice)
    pool: str | None = None  # the journey whose own accounts it is (None: the credentials')


@dataclass
class ScenarioSecrets:
    """Every secret a scenario's journeys need; `vars()` of it lists them (for redaction)."""

    password: Secret | None = None
    clients: dict[str, Secret] = field(default_factory=dict)  # client_id -> secret
    totp: dict[str, Secret] = field(default_factory=dict)  # username -> TOTP secret

    def client_secret(self, client: ClientConfig | None) -> Secret | None:
        if client is None or client.auth_method == "none":
            return None
        try:
            return self.clients[client.client_id]
        except KeyError:
            raise BadInput(f"no secret loaded for client {client.client_id!r}") from None


def load_scenario_secrets(
    scenario: Scenario, environ: dict[str, str] | None = None
) -> ScenarioSecrets:
    """The password and client secrets the scenario's journeys use; BadInput when one is missing."""
    environ = dict(os.environ) if environ is None else environ
    used = {group for journey in scenario.journeys.values() for group in journey.steps}
    creds = scenario.credentials
    secrets = ScenarioSecrets()
    if used & PASSWORD_GROUPS:
        pw_file = scenario.resolve_path(creds.password_file) if creds.password_file else None
        secrets.password = load_secret("credentials password", creds.password_env, pw_file, environ)
    clients: list[ClientConfig] = []
    flows = scenario.flows
    device_uses_oidc_client = "device_login" in used and flows.device.client_id is None
    if flows.oidc is not None and (used & OIDC_CLIENT_GROUPS or device_uses_oidc_client):
        clients.append(flows.oidc.client)
    if "client_credentials" in used and flows.tokens.client_credentials is not None:
        clients.append(flows.tokens.client_credentials)
    if "token_introspect" in used and flows.tokens.introspection_client is not None:
        clients.append(flows.tokens.introspection_client)
    if "password_grant" in used and flows.tokens.password_client is not None:
        clients.append(flows.tokens.password_client)
    for client in clients:
        if client.auth_method == "none" or client.client_id in secrets.clients:
            continue
        file = scenario.resolve_path(client.secret_file) if client.secret_file else None
        secrets.clients[client.client_id] = load_secret(
            f"client secret of {client.client_id}", client.secret_env, file, environ
        )
    for name, journey in scenario.journeys.items():
        if "totp" in journey.steps:
            secrets.totp.update(totp_secrets(scenario, scenario.accounts_of(name)))
    return secrets


def totp_secrets(scenario: Scenario, accounts: AccountSet) -> dict[str, Secret]:
    """username -> TOTP secret from the accounts' totp_file (a CSV with the header row
    `username,totp_secret`); BadInput when it is missing, unreadable, or lacks one of the
    accounts. No message ever shows a secret."""
    if accounts.totp_file is None:
        raise BadInput("the totp step needs credentials.totp_file (username,totp_secret per row)")
    path = scenario.resolve_path(accounts.totp_file)
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = [row for row in csv.reader(f) if row]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise BadInput(
            f"credentials.totp_file {path}: cannot read it ({type(exc).__name__})"
        ) from None
    if not rows or [c.strip().lower() for c in rows[0][:2]] != ["username", "totp_secret"]:
        raise BadInput(f"credentials.totp_file {path}: the first row must be username,totp_secret")
    seeds = {}
    for n, row in enumerate(rows[1:], start=2):
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise BadInput(f"credentials.totp_file {path}: row {n} lacks a username or a secret")
        if not is_base32(row[1].strip()):
            raise BadInput(f"credentials.totp_file {path}: row {n}'s secret is not base32")
        seeds[row[0].strip()] = Secret(row[1].strip(), f"file {path}")
    base_dir = scenario.source.parent if scenario.source else None
    missing = [name for name in usernames(accounts, base_dir) if name not in seeds]
    if missing:
        raise BadInput(
            f"credentials.totp_file {path}: no TOTP secret for {len(missing)} account(s) of "
            f"the credentials, e.g. {missing[0]}"
        )
    return seeds


def is_base32(value: str) -> bool:
    try:
        base64.b32decode(value.upper() + "=" * (-len(value) % 8))
    except (binascii.Error, ValueError):
        return False
    return True


def usernames(credentials: AccountSet, base_dir: Path | None = None) -> list[str]:
    """All usernames: the first CSV column (a header row is skipped), or the pattern's range."""
    if credentials.csv is None:
        return [
            credentials.pattern.format(n=n)
            for n in range(credentials.first, credentials.first + credentials.count)
        ]
    path = credentials.csv
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = [row[0].strip() for row in csv.reader(f) if row and row[0].strip()]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise BadInput(f"credentials.csv {path}: cannot read it ({type(exc).__name__})") from None
    if rows and rows[0].lower() in _HEADER_NAMES:
        rows = rows[1:]
    if not rows:
        raise BadInput(f"credentials.csv {path}: no usernames in its first column")
    # A name listed twice would let two concurrent journeys share one account.
    return list(dict.fromkeys(rows))


class AccountPool:
    """Distinct accounts for concurrent journeys; `acquire` returns None when all are in use.

    Accounts are handed out least recently used first, so a run cycles through all of
    them instead of hammering the first few (per-user caches and rate limits are part of
    what a surge tests).
    """

    def __init__(
        self,
        credentials: AccountSet,
        password: Secret | None,
        base_dir: Path | None = None,
        *,
        worker_index: int = 0,
        worker_count: int = 1,
        pool: str | None = None,
    ) -> None:
        if password is None:
            raise BadInput(
                "AccountPool needs the password (load_scenario_secrets found no journey "
                "that logs in)"
            )
        if not 0 <= worker_index < worker_count:
            raise ValueError(f"worker_index {worker_index} outside 0..{worker_count - 1}")
        names = usernames(credentials, base_dir)
        mine = [
            Account(name, password, i, pool)
            for i, name in enumerate(names)
            if i % worker_count == worker_index
        ]
        if not mine:
            raise BadInput(
                f"{len(names)} account(s) cannot be split over {worker_count} workers; "
                "raise credentials.count"
            )
        self.size = len(mine)
        self._free: deque[Account] = deque(mine)
        self._busy: set[str] = set()

    def acquire(self) -> Account | None:
        if not self._free:
            return None
        account = self._free.popleft()
        self._busy.add(account.username)
        return account

    def release(self, account: Account) -> None:
        # Releasing twice (or an account from elsewhere) must not duplicate it in the pool.
        if account.username in self._busy:
            self._busy.discard(account.username)
            self._free.append(account)

    @property
    def in_use(self) -> int:
        return len(self._busy)


class AccountPools:
    """The scenario's accounts (`credentials`) and the own accounts of journeys that have
    them (`journeys.<name>.accounts`, e.g. the people with a second factor): one pool each,
    sliced per worker the same way. An account goes back to the pool it came from."""

    def __init__(
        self,
        scenario: Scenario,
        password: Secret | None,
        journeys: Iterable[str],
        *,
        worker_index: int = 0,
        worker_count: int = 1,
    ) -> None:
        base_dir = scenario.source.parent if scenario.source else None
        self.pools: dict[str | None, AccountPool] = {}
        self.journey_pool: dict[str, str | None] = {}
        sets: dict[str | None, AccountSet] = {}
        for name in journeys:
            accounts = scenario.accounts_of(name)
            # journeys with the same accounts share one pool: one person per account
            key = next((k for k, other in sets.items() if other == accounts), name)
            if accounts is scenario.credentials:
                key = None
            self.journey_pool[name] = key
            if key in self.pools:
                continue
            sets[key] = accounts
            self.pools[key] = AccountPool(
                accounts,
                password,
                base_dir,
                worker_index=worker_index,
                worker_count=worker_count,
                pool=key,
            )
        held: dict[str, str | None] = {}
        for key, accounts in sets.items():
            for username in usernames(accounts, base_dir):
                if username in held and held[username] != key:
                    raise BadInput(
                        f"account {username} is in two sets of accounts "
                        f"({held[username] or 'credentials'} and {key or 'credentials'}): "
                        "two people could hold it at once; make journeys' accounts disjoint"
                    )
                held[username] = key

    def of(self, journey: str) -> AccountPool:
        """The pool a journey's people take their accounts from."""
        return self.pools[self.journey_pool.get(journey)]

    def acquire(self, journey: str) -> Account | None:
        return self.of(journey).acquire()

    def release(self, account: Account) -> None:
        self.pools[account.pool].release(account)
