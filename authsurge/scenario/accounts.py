"""Who signs in (accounts, their TOTP secrets, the shared password) and the OAuth clients
the journeys authenticate as. Secrets are never here: only where to read them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from authsurge.scenario.base import Strict


class AccountSet(Strict):
    """Who signs in: usernames, and their TOTP secrets when they have a second factor."""

    pattern: str = "user{n:04d}"  # usernames from a pattern over [first, first+count)
    first: Annotated[int, Field(ge=0)] = 1
    count: Annotated[int, Field(ge=1)] = 100
    csv: Path | None = None  # or usernames from the first column of a CSV file
    # per-account TOTP secrets (the totp step): a CSV with a header row
    # `username,totp_secret` (base32, as an authenticator app is given it)
    totp_file: Path | None = None

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, v: str) -> str:
        try:
            v.format(n=1)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                f"must be a format string using {{n}}, e.g. 'user{{n:04d}}' ({exc})"
            ) from None
        return v


class CredentialsConfig(AccountSet):
    """The scenario's accounts and their shared password."""

    password_env: str = "AUTHSURGE_PASSWORD"  # the shared password comes from here ...
    password_file: Path | None = None  # ... or from the first line of this file


class ClientConfig(Strict):
    client_id: str
    auth_method: Literal["none", "client_secret_basic", "client_secret_post"] = "none"
    secret_env: str | None = None  # client secret from this environment variable ...
    secret_file: Path | None = None  # ... or from this file

    @model_validator(mode="after")
    def _secret_source(self) -> ClientConfig:
        if self.auth_method != "none" and not (self.secret_env or self.secret_file):
            raise ValueError(f"auth_method {self.auth_method} needs secret_env or secret_file")
        return self
