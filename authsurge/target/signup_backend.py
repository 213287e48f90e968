"""The authentication backend of a target with sign-up (settings pick it with --signup).

It is allauth's backend, which signs in by user name (the prepared userNNNN) or by e-mail
address (signed-up accounts) with one password check per attempt, whatever its outcome,
like Django's ModelBackend for user names. Two additions, nothing else:

- Mandatory verification also holds on Django's login view. allauth enforces it in its
  own login view, which this target does not mount (accounts/login/ stays Django's); an
  account whose e-mail address is not verified yet is refused there like a wrong
  password, after the same password check. Prepared users have no e-mail address.
- Capacity mode: every password check takes a slot first, as CapacityLimitedBackend does.

Django imports this module once its apps are loaded (the settings name it by path).
"""

from __future__ import annotations

from typing import Any

from allauth.account.auth_backends import AuthenticationBackend
from allauth.account.utils import has_verified_email
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest

from authsurge.target.capacity import limiter


class SignupBackend(AuthenticationBackend):
    def authenticate(
        self, request: HttpRequest | None, **credentials: Any
    ) -> AbstractBaseUser | None:
        if settings.AUTHSURGE_LOGIN_CAPACITY and credentials.get("password"):
            limiter().acquire()
        user = super().authenticate(request, **credentials)
        if user is None:
            return None
        email: str = getattr(user, user.get_email_field_name(), "") or ""
        if email and not has_verified_email(user):
            return None  # signed up, address not verified yet (mandatory verification)
        return user
