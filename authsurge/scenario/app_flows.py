"""Flow settings of the sign-ins apps make: a JSON (or form-data) login API (json_login)
and a TOTP second factor after any password step (totp). The OAuth password grant's
client lives with the other token settings (model.TokenSettings).

Defaults fit django-allauth's headless API for apps (the embedded target with
--app-login); a third-party target changes them by configuration only.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictBool, StrictFloat, StrictInt, StrictStr, field_validator

from authsurge.scenario.base import Strict
from authsurge.scenario.forms import FormSpec, SuccessRule

JsonValue = StrictBool | StrictInt | StrictFloat | StrictStr


def _json_path(value: str | None) -> str | None:
    if value is not None and (not value or any(not part for part in value.split("."))):
        raise ValueError(f"a JSON path is dotted keys or list indices, e.g. meta.token: {value!r}")
    return value


class JsonRule(Strict):
    """How a JSON answer is judged: its status, and optionally one field of its body.

    json_path names the field by dotted keys and list indices (`meta.is_authenticated`,
    `data.flows.0.id`); with json_equals it must equal that value, without it it must be
    present and not null, false or empty."""

    status: list[int] = Field(default_factory=lambda: [200])
    json_path: str | None = None
    json_equals: JsonValue | None = None
    text_present: str | None = None  # and this text somewhere in the body

    _check = field_validator("json_path")(classmethod(lambda cls, v: _json_path(v)))


class JsonLoginSettings(Strict):
    url: str = "/_allauth/app/v1/auth/login"
    encoding: Literal["json", "form"] = "json"  # the body: a JSON object or form data
    username_field: str = "username"
    password_field: str = "password"
    extra_fields: dict[str, str] = Field(default_factory=dict)  # sent with the credentials
    headers: dict[str, str] = Field(default_factory=dict)  # e.g. an app's API key
    # Where the answer carries the person's tokens (None: the login sets a session cookie).
    # The session token goes into later requests' `session_header` (api.auth: header; the
    # totp step); the access token is a bearer token (api.auth: bearer).
    session_token_path: str | None = "meta.session_token"
    access_token_path: str | None = None
    success: JsonRule = Field(
        default_factory=lambda: JsonRule(json_path="meta.is_authenticated", json_equals=True)
    )
    # the answer that means "password right, second factor next" (allauth: 401 with the
    # pending mfa_authenticate flow, not its 401 for an unverified address); only a journey
    # with a totp step after it goes on
    second_factor: JsonRule = Field(
        default_factory=lambda: JsonRule(status=[401], text_present='"mfa_authenticate"')
    )

    _check = field_validator("session_token_path", "access_token_path")(
        classmethod(lambda cls, v: _json_path(v))
    )


class TotpSettings(Strict):
    """The second factor: a TOTP code (RFC 6238) from the account's secret, at request time.

    json: POST `{code_field: code}` (plus `fields`) to `url`, carrying the JSON login's
    session token in `session_header`; the answer is judged by `success` and its tokens
    read with json_login's paths. form: GET `url` (the code page the password step
    leads to), fill the form that has the code input, POST it; judged by `form_success`."""

    mode: Literal["json", "form"] = "json"
    url: str = "/_allauth/app/v1/auth/2fa/authenticate"
    code_field: str = "code"
    fields: dict[str, str] = Field(default_factory=dict)  # sent with the code
    session_header: str | None = "X-Session-Token"
    success: JsonRule = Field(
        default_factory=lambda: JsonRule(json_path="meta.is_authenticated", json_equals=True)
    )
    form: FormSpec = Field(default_factory=FormSpec)  # form mode: selector, extra_fields
    form_success: SuccessRule = Field(default_factory=lambda: SuccessRule(status=[302, 303]))
    digits: Annotated[int, Field(ge=6, le=10)] = 6
    period_s: Annotated[int, Field(ge=1, le=300)] = 30
    algorithm: Literal["SHA1", "SHA256", "SHA512"] = "SHA1"
    # A server accepts a code once per account and period. wait: an account that already
    # used this period's code waits for the next one, as a person would; send: send it
    # anyway (the server's answer shows whether it refuses a reused code).
    reuse: Literal["wait", "send"] = "wait"


def totp_reuse_warning(
    totp_journeys: list[str], peaks: dict[str, float], accounts: int | None, period_s: int
) -> str | None:
    """A warning when, at the traffic's peak, an account would sign in again with TOTP
    within one code period: a server accepts each code once per account and period, so
    the scenario needs accounts >= TOTP sign-ins/s x period."""
    rate = sum(peaks.get(name, 0.0) for name in totp_journeys)
    if accounts is None or rate <= 0 or rate * period_s <= accounts:
        return None
    return (
        f"TOTP sign-ins peak at {rate:.1f}/s over {accounts} accounts: an account signs in "
        f"again every {accounts / rate:.1f} s, within one {period_s}-s code period, and a "
        "server accepts a code once per account and period (people wait for the next code "
        f"with totp.reuse: wait, are refused with send); give at least "
        f"{int(rate * period_s + 0.999)} accounts"
    )
