"""Token operations: the token endpoint (with client authentication), refresh with rotation,
client credentials, introspection, revocation and userinfo.

Steps: token.refresh, token.client_credentials, token.introspect, token.revoke,
oidc.userinfo. The code exchange (oidc.token) lives in oidc.py and uses `token_request`.

Rotation: each refresh keeps the newest refresh token and drops the one it used, so a
rotated token is never sent again (a provider with reuse detection would revoke the
whole family, and the journey would fail for a reason the target did not cause).
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Mapping
from typing import Any, Protocol

from authsurge.journeys.client import HttpClient, Response, StepFailed
from authsurge.journeys.reporting import status_outcome
from authsurge.journeys.state import JourneyState
from authsurge.journeys.urls import form_encode, resolve_url
from authsurge.journeys.wire import basic_auth
from authsurge.rundir import records as record
from authsurge.scenario import ClientConfig, TokenSettings
from authsurge.secret import Secret

_ERROR_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class EndpointSource(Protocol):
    """Where token steps find endpoints: an OIDC provider's discovery (oidc.Provider)."""

    def endpoint(self, state: JourneyState, key: str, step: str) -> str: ...


def token_request(
    http: HttpClient,
    step: str,
    url: str,
    params: Mapping[str, str | Secret],
    client: ClientConfig,
    secret: Secret | None,
    hint: str | None = None,
) -> tuple[Response, dict[str, Any]]:
    """POST to a token-style endpoint with client authentication; the JSON answer.

    Fails (reported on the response) with `rejected` when the server answers with an
    OAuth error ("400 on POST /o/token/: invalid_grant"), with the status class for any
    other non-200, and `invalid_response` when a 200 carries no JSON object; `hint` is
    added to a failure's reason. The response is returned unreported so the caller can
    judge its content.
    """
    headers = {"Accept": "application/json"}
    body = client_auth(client, secret, params, headers)
    resp = http.request(step, "POST", url, body=body, headers=headers, form=True)
    return resp, json_answer(http, resp, hint)


def client_auth(
    client: ClientConfig,
    secret: Secret | None,
    params: Mapping[str, str | Secret],
    headers: dict[str, str],
) -> bytes:
    """Authenticate the client (RFC 6749 2.3) into `headers` or the form; the encoded form.

    The one place a client secret (and a password grant's password) is revealed,
    straight into the request.
    """
    plain = {k: v.reveal() if isinstance(v, Secret) else v for k, v in params.items()}
    if client.auth_method == "client_secret_basic":
        assert secret is not None  # the schema insists on a secret source, the loader on a value
        headers["Authorization"] = basic_auth(client.client_id, secret.reveal())
    else:
        plain["client_id"] = client.client_id
        if client.auth_method == "client_secret_post":
            assert secret is not None
            plain["client_secret"] = secret.reveal()
    return form_encode(plain).encode("utf-8")


def with_hints(reason: str, *hints: str | None) -> str:
    """'401 on GET /o/userinfo/ (invalid_token; access_token revoked earlier by token.revoke)'."""
    shown = [h for h in hints if h]
    return f"{reason} ({'; '.join(shown)})" if shown else reason


def json_answer(http: HttpClient, resp: Response, hint: str | None = None) -> dict[str, Any]:
    """The JSON object of a 200, or a failure that names the OAuth error when there is one."""
    if resp.status == 200:
        try:
            data = resp.json()
        except (ValueError, UnicodeDecodeError):
            data = None
        if not isinstance(data, dict):
            raise http.fail(
                resp, record.INVALID_RESPONSE, f"no JSON object from {resp.method} {resp.path}"
            )
        return data
    error = oauth_error(resp)
    if error and 400 <= resp.status < 500:
        raise http.fail(resp, record.REJECTED, with_hints(f"{resp.describe()}: {error}", hint))
    raise http.fail(resp, status_outcome(resp.status), with_hints(resp.describe(), hint))


def oauth_error(resp: Response) -> str | None:
    """The `error` code of an OAuth error response (JSON body or WWW-Authenticate), if any."""
    error = None
    if resp.body[:1] == b"{":
        try:
            data = json.loads(resp.body)
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("error"), str):
            error = data["error"]
    if error is None:
        m = re.search(r'error="?([^",]+)', resp.header("www-authenticate") or "")
        error = m.group(1) if m else None
    # Only a plain code goes into a reason: never echo arbitrary server text.
    return error if error and _ERROR_CODE.fullmatch(error) else None


def check_bearer(http: HttpClient, resp: Response, data: dict[str, Any]) -> str:
    """The access token of a token response that says it is a Bearer token."""
    token_type = data.get("token_type")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        shown = token_type if isinstance(token_type, str) and len(token_type) < 20 else "missing"
        raise http.fail(resp, record.INVALID_RESPONSE, f"token_type {shown}, expected Bearer")
    access = data.get("access_token")
    if not isinstance(access, str) or not access:
        raise http.fail(resp, record.INVALID_RESPONSE, "no access_token in the token response")
    return access


def expires_at(data: dict[str, Any]) -> float | None:
    """When the access token of a token response expires (epoch s), from its expires_in;
    None when it gives none (or garbage)."""
    value = data.get("expires_in")
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e9:
        return None
    return time.time() + float(value)


def keep_tokens(state: JourneyState, resp: Response, data: dict[str, Any]) -> None:
    """A grant's token response into the person's state: the access token (it must be a
    Bearer token), its expiry, and the refresh and ID tokens when given."""
    state.access_token = check_bearer(state.http, resp, data)
    state.token_expires_at = expires_at(data)
    refresh, id_token = data.get("refresh_token"), data.get("id_token")
    state.refresh_token = refresh if isinstance(refresh, str) and refresh else None
    state.id_token = id_token if isinstance(id_token, str) and id_token else None


def plain_code(value: object) -> str | None:
    """An error code fit for a reason: a short plain token, never arbitrary server text."""
    return value if isinstance(value, str) and _ERROR_CODE.fullmatch(value) else None


def jwt_claims(token: str) -> dict[str, Any] | None:
    """The payload of a JWT, unverified (a cheap sanity check, not a signature check)."""
    try:
        payload = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def bearer(token: str) -> dict[str, str]:
    return {"Accept": "application/json", "Authorization": "Bearer " + token}


# --- step groups ------------------------------------------------------------------------


class TokenStep:
    needs_account = False
    logout = False

    def __init__(
        self,
        endpoints: EndpointSource | None,
        client: ClientConfig | None,
        secret: Secret | None,
        settings: TokenSettings | None = None,
    ) -> None:
        self.endpoints = endpoints
        self.client = client
        self.secret = secret
        self.settings = settings or TokenSettings()

    def _endpoint(self, state: JourneyState, key: str, step: str) -> str:
        if self.endpoints is None:
            raise StepFailed(step, record.UNEXPECTED_PAGE, f"no {key}: configure flows.oidc")
        return self.endpoints.endpoint(state, key, step)


class Refresh(TokenStep):
    """token_refresh: `refreshes` refresh-token grants, keeping the newest refresh token."""

    group = "token_refresh"

    def __call__(self, state: JourneyState) -> None:
        assert self.client is not None
        for _ in range(self.settings.refreshes):
            token = state.refresh_token
            if not token:
                raise StepFailed(
                    "token.refresh",
                    record.INVALID_RESPONSE,
                    "no refresh token held (the token response had none)",
                )
            url = self._endpoint(state, "token_endpoint", "token.refresh")
            # Drop it before sending: whatever happens, a used refresh token is never reused.
            state.refresh_token = None
            resp, data = token_request(
                state.http,
                "token.refresh",
                url,
                {"grant_type": "refresh_token", "refresh_token": token},
                self.client,
                self.secret,
                state.revoked_hint(),
            )
            state.access_token = check_bearer(state.http, resp, data)
            state.token_expires_at = expires_at(data)
            new = data.get("refresh_token")
            # Without rotation the provider keeps the old token valid: keep using it.
            state.refresh_token = new if isinstance(new, str) and new else token
            if isinstance(data.get("id_token"), str):
                state.id_token = data["id_token"]
            state.http.ok(resp)


class ClientCredentials(TokenStep):
    """client_credentials: a service token (it becomes the token later api steps send)."""

    group = "client_credentials"

    def __call__(self, state: JourneyState) -> None:
        assert self.client is not None
        if self.settings.token_url:
            url = resolve_url(state.base_url, self.settings.token_url)
        else:
            url = self._endpoint(state, "token_endpoint", "token.client_credentials")
        params = {"grant_type": "client_credentials"}
        if self.settings.client_credentials_scope:
            params["scope"] = self.settings.client_credentials_scope
        resp, data = token_request(
            state.http, "token.client_credentials", url, params, self.client, self.secret
        )
        state.access_token = check_bearer(state.http, resp, data)
        state.http.ok(resp)


class PasswordGrant(TokenStep):
    """password_grant: the OAuth resource-owner password grant (RFC 6749 4.3), as
    first-party and legacy apps sign in: the person's password straight to the token
    endpoint, with the client's authentication."""

    group = "password_grant"
    needs_account = True

    def __call__(self, state: JourneyState) -> None:
        assert self.client is not None
        if state.account is None:
            raise StepFailed(
                "token.password", record.UNEXPECTED_PAGE, "no account for this journey"
            )
        if self.settings.token_url:
            url = resolve_url(state.base_url, self.settings.token_url)
        else:
            url = self._endpoint(state, "token_endpoint", "token.password")
        params: dict[str, str | Secret] = {
            "grant_type": "password",
            "username": state.account.username,
            "password": state.account.password,
        }
        if self.settings.password_scope:
            params["scope"] = self.settings.password_scope
        resp, data = token_request(
            state.http, "token.password", url, params, self.client, self.secret
        )
        keep_tokens(state, resp, data)
        state.http.ok(resp)


class Introspect(TokenStep):
    """token_introspect: the held access token must come back active."""

    group = "token_introspect"

    def __call__(self, state: JourneyState) -> None:
        assert self.client is not None
        if not state.access_token:
            raise StepFailed("token.introspect", record.INVALID_RESPONSE, "no access token held")
        url = self._endpoint(state, "introspection_endpoint", "token.introspect")
        resp, data = token_request(
            state.http,
            "token.introspect",
            url,
            {"token": state.access_token, "token_type_hint": "access_token"},
            self.client,
            self.secret,
            state.revoked_hint(),
        )
        if data.get("active") is not True:
            raise state.http.fail(
                resp, record.REJECTED, with_hints("token not active", state.revoked_hint())
            )
        state.http.ok(resp)


class Revoke(TokenStep):
    """token_revoke: RFC 7009 revocation of the refresh token, the access token, or both."""

    group = "token_revoke"

    def __call__(self, state: JourneyState) -> None:
        assert self.client is not None
        which = self.settings.revoke
        if which == "auto":
            kinds = ["refresh_token"] if state.refresh_token else ["access_token"]
        elif which == "both":
            kinds = ["refresh_token", "access_token"]
        else:
            kinds = [which]
        url = self._endpoint(state, "revocation_endpoint", "token.revoke")
        for kind in kinds:
            token = state.refresh_token if kind == "refresh_token" else state.access_token
            if not token:
                raise StepFailed(
                    "token.revoke", record.INVALID_RESPONSE, f"no {kind} held to revoke"
                )
            headers: dict[str, str] = {}
            body = client_auth(
                self.client, self.secret, {"token": token, "token_type_hint": kind}, headers
            )
            resp = state.http.request(
                "token.revoke", "POST", url, body=body, headers=headers, form=True
            )
            if resp.status != 200:
                raise state.http.fail_status(resp, oauth_error(resp) or "")
            state.http.ok(resp)
            # The tokens stay held: a later step that uses one shows what revocation did.
            state.revoked.add(kind)


class Userinfo(TokenStep):
    """userinfo: GET the userinfo endpoint with the access token; it must name a subject."""

    group = "userinfo"

    def __call__(self, state: JourneyState) -> None:
        if not state.access_token:
            raise StepFailed("oidc.userinfo", record.INVALID_RESPONSE, "no access token held")
        url = self._endpoint(state, "userinfo_endpoint", "oidc.userinfo")
        resp = state.http.request("oidc.userinfo", "GET", url, headers=bearer(state.access_token))
        if resp.status != 200:
            reason = with_hints(resp.describe(), oauth_error(resp), state.revoked_hint())
            raise state.http.fail(resp, status_outcome(resp.status), reason)
        try:
            data = resp.json()
        except ValueError:
            data = None
        if not isinstance(data, dict) or "sub" not in data:
            if resp.body[:1] == b"e" and resp.body.count(b".") == 2:  # a signed JWT answer
                claims = jwt_claims(resp.body.decode("ascii", "replace"))
                if claims and "sub" in claims:
                    state.http.ok(resp)
                    return
            raise state.http.fail(resp, record.INVALID_RESPONSE, "userinfo without a sub claim")
        state.http.ok(resp)
