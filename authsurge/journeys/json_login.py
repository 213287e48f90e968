"""Sign-in through a JSON API, as mobile apps and SPAs do: POST the credentials, take the
session token or access token from the answer (or the cookie it sets).

Works for django-allauth's headless API, Flask-Security's JSON login, FusionAuth's Login
API and the like, by configuration only (scenario.JsonLoginSettings). An answer that
says "password right, second factor next" hands over to the totp step group.

Step: login.json.
"""

from __future__ import annotations

import json
from typing import Any

from authsurge.journeys.client import HttpClient, Response, StepFailed
from authsurge.journeys.reporting import status_outcome
from authsurge.journeys.state import JourneyState
from authsurge.journeys.tokens import plain_code
from authsurge.journeys.urls import form_encode, resolve_url
from authsurge.rundir import records as record
from authsurge.scenario import JsonLoginSettings, JsonRule
from authsurge.secret import Secret

MISSING = object()
# statuses with which a login API says "no" to the credentials in its own words
_REFUSALS = frozenset((400, 401, 403, 422))


def json_at(data: Any, path: str) -> Any:
    """The value at a dotted path (keys, and list indices as numbers); MISSING if absent."""
    for part in path.split("."):
        if isinstance(data, dict):
            data = data.get(part, MISSING)
        elif isinstance(data, list) and part.isdecimal() and int(part) < len(data):
            data = data[int(part)]
        else:
            return MISSING
        if data is MISSING:
            return MISSING
    return data


def answer_json(resp: Response) -> Any:
    """The parsed body of a JSON answer; MISSING when it is not JSON."""
    if resp.body[:1] not in (b"{", b"["):
        return MISSING
    try:
        return json.loads(resp.body)
    except (ValueError, UnicodeDecodeError):
        return MISSING


def rule_failures(rule: JsonRule, resp: Response, data: Any) -> list[str]:
    """Why an answer does not meet a JsonRule (empty: it does). Never shows a value."""
    out = []
    if resp.status not in rule.status:
        out.append(f"status {resp.status}, expected {'/'.join(map(str, rule.status))}")
    if rule.json_path is not None:
        value = json_at(data, rule.json_path)
        if value is MISSING:
            out.append(f"no {rule.json_path} in the answer")
        elif rule.json_equals is not None:
            # True == 1 in Python; a JSON true is not the number 1
            same = type(value) is type(rule.json_equals) and value == rule.json_equals
            if not same:
                out.append(f"{rule.json_path} is not {json.dumps(rule.json_equals)}")
        elif (
            value is None or value is False or (isinstance(value, str | list | dict) and not value)
        ):
            out.append(f"{rule.json_path} is empty")
    if rule.text_present is not None and rule.text_present.encode() not in resp.body:
        out.append(f"text {rule.text_present!r} absent")
    return out


def error_code(data: Any) -> str | None:
    """The machine-readable code of an error answer (OAuth `error`, allauth's
    `errors[0].code`), when it is a plain code: never echo arbitrary server text."""
    for path in ("error", "errors.0.code", "code"):
        if (code := plain_code(json_at(data, path))) is not None:
            return code
    return None


def refusal(resp: Response, data: Any, what: str) -> tuple[str, str] | None:
    """(outcome, reason) for an answer that is an error: `rejected` when the server
    refused in its own words (a 4xx with a JSON body), else by status; None for a 2xx."""
    code = error_code(data)
    detail = f" ({code})" if code else ""
    if resp.status in _REFUSALS and data is not MISSING:
        return record.REJECTED, f"{what} rejected: {resp.describe()}{detail}"
    if resp.status >= 300:
        return status_outcome(resp.status), resp.describe() + detail
    return None


def take_tokens(
    http: HttpClient, resp: Response, data: Any, state: JourneyState, settings: JsonLoginSettings
) -> None:
    """Keep the tokens the answer carries where the settings say; a configured one that is
    missing fails the step (the app could not go on without it)."""
    for path, attr in (
        (settings.session_token_path, "session_token"),
        (settings.access_token_path, "access_token"),
    ):
        if path is None:
            continue
        value = json_at(data, path)
        if not isinstance(value, str) or not value:
            raise http.fail(resp, record.INVALID_RESPONSE, f"no {path} in the answer")
        setattr(state, attr, value)


def encode_body(
    encoding: str, values: dict[str, str | Secret], headers: dict[str, str]
) -> tuple[bytes, bool]:
    """The request body (secrets revealed only here) and whether it is form data."""
    plain = {k: v.reveal() if isinstance(v, Secret) else v for k, v in values.items()}
    if encoding == "form":
        return form_encode(plain).encode("utf-8"), True
    headers["Content-Type"] = "application/json"
    return json.dumps(plain).encode("utf-8"), False


class JsonLogin:
    """The json_login step group. `second_factor_next`: a totp step follows, so an answer
    meeting `second_factor` is a step well done, not a failure."""

    group = "json_login"
    needs_account = True
    logout = False

    def __init__(
        self, settings: JsonLoginSettings | None = None, *, second_factor_next: bool = False
    ) -> None:
        self.settings = settings or JsonLoginSettings()
        self.second_factor_next = second_factor_next

    def __call__(self, state: JourneyState) -> None:
        s = self.settings
        http = state.http
        if state.account is None:
            raise StepFailed("login.json", record.UNEXPECTED_PAGE, "no account for this journey")
        values: dict[str, str | Secret] = dict(s.extra_fields)
        values[s.username_field] = state.account.username
        values[s.password_field] = state.account.password
        headers = {"Accept": "application/json", **s.headers}
        body, form = encode_body(s.encoding, values, headers)
        url = resolve_url(state.base_url, s.url)
        resp = http.request("login.json", "POST", url, body=body, headers=headers, form=form)
        data = answer_json(resp)
        if self.second_factor_next and not rule_failures(s.second_factor, resp, data):
            # the token of the half-done login carries the second factor (allauth)
            token = json_at(data, s.session_token_path) if s.session_token_path else None
            if isinstance(token, str) and token:
                state.session_token = token
            state.second_factor_pending = True
            http.ok(resp)
            return
        failures = rule_failures(s.success, resp, data)
        if not failures:
            take_tokens(http, resp, data, state, s)
            http.ok(resp)
            return
        if not self.second_factor_next and not rule_failures(s.second_factor, resp, data):
            raise http.fail(
                resp,
                record.UNEXPECTED_PAGE,
                f"{resp.describe()}: the account needs a second factor (add a totp step)",
            )
        outcome, reason = refusal(resp, data, "credentials") or (
            record.UNEXPECTED_PAGE,
            f"{resp.describe()}: {'; '.join(failures)}",
        )
        raise http.fail(resp, outcome, reason)
