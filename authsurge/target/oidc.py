"""Our DOT extensions, all through hooks DOT and oauthlib offer: extra claims, the device
code check oauthlib 4 asks for (authsurge.target.device), a fuller discovery."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views import ConnectDiscoveryInfoView

from authsurge.target.device import device_code_status


class SurgeOAuth2Validator(OAuth2Validator):
    # DOT's oidc_claim_scope maps preferred_username to the "profile" scope, so it is only
    # in the ID token / userinfo when that scope was granted.
    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        return {"preferred_username": request.user.get_username()}

    # oauthlib 4 calls this for a device code DOT's token view found approved; DOT 3.4's
    # validator does not have it (oauthlib's default raises NotImplementedError)
    def validate_device_code(
        self, client_id: str | None, code: str, request: Any, *args: Any, **kwargs: Any
    ) -> str | None:
        return device_code_status(client_id, code, request)


class DiscoveryView(ConnectDiscoveryInfoView):
    """DOT's OIDC discovery document plus revocation_endpoint, introspection_endpoint and
    device_authorization_endpoint (RFC 8628 4).

    DOT publishes the first two only in its RFC 8414 metadata and the third nowhere;
    OpenID providers commonly list them in openid-configuration too (all are registered
    metadata names), and clients (our journeys among them) look for every endpoint in
    one document.
    """

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().get(request, *args, **kwargs)
        data = json.loads(response.content)
        methods = oauth2_settings.OAUTH2_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED
        for key, view_name in (
            ("revocation_endpoint", "revoke-token"),
            ("introspection_endpoint", "introspect"),
        ):
            data[key] = self._get_endpoint_url(request, view_name, required=True)
            data[f"{key}_auth_methods_supported"] = methods
        data["device_authorization_endpoint"] = self._get_endpoint_url(
            request, "device-authorization", required=True
        )
        extended = JsonResponse(data)
        extended["Access-Control-Allow-Origin"] = response.get("Access-Control-Allow-Origin", "*")
        return extended
