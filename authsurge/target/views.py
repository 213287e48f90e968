"""The target's own small views; login, logout and all of OIDC are Django's and DOT's."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from oauth2_provider.oauth2_backends import get_oauthlib_core


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    # No session, user or DB access here: it answers while the database is busy.
    return HttpResponse("ok", content_type="text/plain")


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "index.html")


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    return render(request, "profile.html")


def _unauthorized(error: str) -> JsonResponse:
    response = JsonResponse({"error": error}, status=401)
    response["WWW-Authenticate"] = (
        f'Bearer error="{error}"' if error == "invalid_token" else "Bearer"
    )
    return response


@require_GET
def api_me(request: HttpRequest) -> JsonResponse:
    """The protected API: a bearer token (Authorization header), with --app-login an
    allauth session token (X-Session-Token header), or a Django session cookie.

    A header, when present, decides: an invalid bearer token or session token is 401
    even with a session cookie, as a resource server would treat it. Bearer tokens are
    DOT's, or with --app-login allauth's JWT access tokens. Client-credentials tokens
    have no user.
    """
    authorization = request.META.get("HTTP_AUTHORIZATION", "")
    if authorization.lower().startswith("bearer "):
        if settings.AUTHSURGE_APP_LOGIN:
            from authsurge.target.app_login import jwt_user

            holder = jwt_user(authorization.split(None, 1)[1].strip())
            if holder is not None:  # else DOT's: the two never accept each other's tokens
                return JsonResponse(
                    {
                        "user": holder.get_username(),
                        "auth": "bearer",
                        "client": None,
                        "token": "jwt",
                    }
                )
        valid, oauth_request = get_oauthlib_core().verify_request(request, scopes=[])
        if not valid:
            return _unauthorized("invalid_token")
        token = oauth_request.access_token
        user = token.user.get_username() if token.user else None
        client = token.application.client_id if token.application else None
        return JsonResponse({"user": user, "auth": "bearer", "client": client})
    session_token = request.headers.get("X-Session-Token")
    if session_token is not None and settings.AUTHSURGE_APP_LOGIN:
        from authsurge.target.app_login import session_token_user

        holder = session_token_user(session_token)
        if holder is None:  # unknown, expired, or a sign-in still waiting for its 2FA code
            return _unauthorized("invalid_token")
        return JsonResponse({"user": holder.get_username(), "auth": "session_token"})
    if request.user.is_authenticated:
        return JsonResponse({"user": request.user.get_username(), "auth": "session"})
    return _unauthorized("unauthenticated")
