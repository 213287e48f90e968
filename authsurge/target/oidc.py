"""The one DOT extension point we use: extra OIDC claims, through DOT's own validator hook."""

from __future__ import annotations

from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator


class SurgeOAuth2Validator(OAuth2Validator):
    # DOT's oidc_claim_scope maps preferred_username to the "profile" scope, so it is only
    # in the ID token / userinfo when that scope was granted.
    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        return {"preferred_username": request.user.get_username()}
