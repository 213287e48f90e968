"""The device authorization grant (RFC 8628) on DOT's own views, with what DOT 3.4 and
oauthlib 4 do not do together.

DOT's device views are mounted as they are (authsurge.target.urls), except two,
replaced by subclasses here:

- `DeviceAuthorizationView` (POST /o/device-authorization/): oauthlib 4 adds `scope`
  to the answer it builds, which DOT's `DeviceCodeResponse` does not take (a TypeError,
  500, on every request); oauthlib's `expires_in` (default 1800 s) is not among the
  settings DOT passes on, so `--device-code-lifetime` sets it through the server class.
- `TokenView` (POST /o/token/): DOT answers a poll from the status stored with the
  device grant and never compares its expiry with the clock, so an expired code would
  answer authorization_pending forever; the poll first lets DOT's own `is_expired()`
  mark it expired. A device-code poll without device_code is 400 invalid_request (DOT's
  view: KeyError, 500).

`device_code_status` is the validator hook oauthlib 4 calls for an approved code
(DOT's validator lacks it: NotImplementedError, 500); it also makes a device code good
for one token: the first successful poll claims it in the device cache (a table in the
database, so every gunicorn worker agrees), a later poll of the same code is 400
invalid_grant.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse, JsonResponse
from oauth2_provider import views as dot_views
from oauth2_provider.models import DeviceCodeResponse, get_device_grant_model
from oauthlib.oauth2 import DeviceApplicationServer

DEVICE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
# the statuses oauthlib's DeviceCodeGrant maps to RFC 8628 3.5 errors (its DEVICE_CODE_*
# constants, which oauthlib 3 does not have)
AUTHORIZED = "authorized"
PENDING = "authorization_pending"
EXPIRED = "expired_token"
DENIED = "access_denied"
# DeviceCodeResponse's fields: what DOT's view can store of oauthlib's answer
_RESPONSE_FIELDS = frozenset(f.name for f in dataclasses.fields(DeviceCodeResponse))


def cache_key(prefix: str, device_code: str) -> str:
    """A cache key for `device_code`: its hash, so the cache table never holds the code."""
    return f"{prefix}:{hashlib.sha256(device_code.encode()).hexdigest()}"


class DeviceServer(DeviceApplicationServer):
    """oauthlib's device authorization endpoint with the target's code lifetime."""

    @property
    def expires_in(self) -> int:
        return int(settings.AUTHSURGE_DEVICE_CODE_LIFETIME_S)


class DeviceAuthorizationView(dot_views.DeviceAuthorizationView):
    """DOT's view, given only the keys its DeviceCodeResponse takes (oauthlib 4's `scope`
    is dropped from the answer: RFC 8628 3.2 has no such member), answering no-store
    (the answer carries the device code; RFC 8628's example has the header, DOT not)."""

    server_class = DeviceServer

    def create_device_authorization_response(self, request: HttpRequest) -> Any:
        headers, body, status = super().create_device_authorization_response(request)
        if status == 200 and isinstance(body, dict):
            body = {k: v for k, v in body.items() if k in _RESPONSE_FIELDS}
        return headers, body, status

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = super().post(request, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response


class TokenView(dot_views.TokenView):
    """DOT's token endpoint; device-code polls see their code's expiry first."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.POST.get("grant_type") == DEVICE_GRANT_TYPE and not request.POST.get(
            "device_code"
        ):
            return error_response("invalid_request")
        response: HttpResponse = super().post(request, *args, **kwargs)
        return response

    def device_flow_token_response(
        self, request: HttpRequest, device_code: str, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        grant = get_device_grant_model().objects.filter(device_code=device_code).first()
        if grant is not None:
            grant.is_expired()  # past its expiry: stored as expired, DOT then says so
        response: HttpResponse = super().device_flow_token_response(
            request, device_code, *args, **kwargs
        )
        return response


def error_response(error: str) -> JsonResponse:
    """An RFC 6749 5.2 error answer: 400 JSON, not to be cached."""
    response = JsonResponse({"error": error}, status=400)
    response["Cache-Control"] = "no-store"
    return response


def device_code_status(client_id: str | None, code: str, request: Any) -> str | None:
    """oauthlib 4's `validate_device_code`: the status of `code` for the authenticated
    client (None: unknown, another client's, or already exchanged for a token ->
    invalid_grant). An approved code sets the request's user and scopes and is claimed:
    only the first poll that gets here for it is told AUTHORIZED."""
    client = getattr(request, "client", None)
    client_id = getattr(client, "client_id", None) or client_id
    model = get_device_grant_model()
    grant = model.objects.filter(device_code=code, client_id=client_id).first()
    if grant is None:
        return None
    if grant.is_expired():
        return EXPIRED
    if grant.status == model.DENIED:
        return DENIED
    if grant.status == model.AUTHORIZATION_PENDING:
        return PENDING
    if grant.status != model.AUTHORIZED:
        return None
    # the claim outlives the code by a little: past its expiry the code is expired_token
    # (TokenView) before anything asks for the claim again
    left_s = (grant.expires - datetime.now(tz=UTC)).total_seconds()
    cache = caches[settings.AUTHSURGE_DEVICE_CACHE]
    if not cache.add(cache_key("spent", code), 1, timeout=max(1, int(left_s) + 60)):
        return None
    request.user = grant.user
    request.scopes = grant.scope.split() if grant.scope else []
    return AUTHORIZED
