"""The authentication backend of capacity mode (settings pick it when --login-capacity is set)."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from authsurge.target.capacity import limiter


class CapacityLimitedBackend(ModelBackend):
    """Django's ModelBackend, but every password check waits for a capacity slot first.

    Sitting in the authentication backend puts the limit exactly on password checks,
    whichever view asks (the form login, and the OIDC login, which is the same view).
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is not None and password is not None:
            limiter().acquire()
        return super().authenticate(request, username=username, password=password, **kwargs)
