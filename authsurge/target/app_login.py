"""--app-login's code around django-allauth: the account adapter (the settings name it by
path) and the token checks of /api/me. Imported once allauth's apps are loaded, never by
the settings themselves, and only with --app-login (allauth is not installed without).

The adapter makes two changes to allauth's defaults, both so that the headless login
treats the prepared accounts as the target's form login does, nothing else:

- Mandatory e-mail verification (--signup) does not stop accounts that have no e-mail
  address at all: the prepared user0001.. and mfa0001.. were never signed up and have
  none to verify (SignupBackend lets them through Django's login view the same way). A
  signed-up account still needs its address verified.
- Sign-up stays closed without --signup: the headless API has a sign-up endpoint of its
  own, which --app-login alone must not open.
"""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from allauth.account.stages import EmailVerificationStage
from allauth.headless.internal.sessionkit import authenticate_by_x_session_token
from allauth.headless.tokens.strategies.jwt.internal import validate_access_token
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpRequest

_ALLAUTH_STAGE = "allauth.account.stages.EmailVerificationStage"


class PreparedAccountsVerificationStage(EmailVerificationStage):
    """allauth's verification stage, skipped for accounts without any e-mail address."""

    def handle(self) -> tuple[Any, bool]:
        user = self.login.user
        if (
            user is not None
            and not getattr(user, user.get_email_field_name(), "")
            and not EmailAddress.objects.filter(user_id=user.pk).exists()
        ):
            return None, True
        result: tuple[Any, bool] = super().handle()
        return result


class SurgeAccountAdapter(DefaultAccountAdapter):
    def get_login_stages(self) -> list[str]:
        stages: list[str] = super().get_login_stages()
        stage = f"{__name__}.{PreparedAccountsVerificationStage.__name__}"
        return [stage if path == _ALLAUTH_STAGE else path for path in stages]

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return bool(settings.AUTHSURGE_SIGNUP)


# /api/me checks allauth's tokens with the two functions allauth's own API integrations
# (allauth.headless.contrib.rest_framework and .ninja) call; neither of those frameworks
# is installed here, and no token is parsed or compared by hand.


def session_token_user(token: str) -> AbstractBaseUser | None:
    """The signed-in user of an X-Session-Token; None if the token names no session, or a
    session whose sign-in is not complete (a login waiting for its TOTP code)."""
    result = authenticate_by_x_session_token(token)
    return None if result is None else result.user


def jwt_user(token: str) -> AbstractBaseUser | None:
    """The user of a valid allauth JWT access token (signature, expiry, token_use); None
    for anything else, a DOT token among them. Stateless, as allauth validates it by
    default (HEADLESS_JWT_STATEFUL_VALIDATION_ENABLED off): signing out does not revoke
    a token before it expires."""
    result = validate_access_token(token)
    if result is None:
        return None
    try:
        result.user.pk  # noqa: B018 - allauth loads the user lazily: a deleted one is no one
    except ObjectDoesNotExist:
        return None
    return result.user
