"""The step groups a journey is composed of, and the requests (step names) each makes.

Kept apart from the step classes in authsurge/journeys/ because the scenario model checks
`abandon_after` and abort conditions against them and must not import the journeys
(gevent, locust; and they import this package).
"""

from __future__ import annotations

from typing import Literal, get_args

StepGroup = Literal[
    "form_login",
    "form_logout",
    "oidc_login",
    "oidc_logout",
    "token_refresh",
    "token_introspect",
    "token_revoke",
    "userinfo",
    "client_credentials",
    "api",
    "form_signup",
    "email_verify",
    "email_code_login",
    "magic_link_login",
    "json_login",
    "password_grant",
    "totp",
    "device_login",
]
STEP_GROUPS: tuple[str, ...] = get_args(StepGroup)

# The requests (step names in the records) each step group makes, as the step classes in
# authsurge/journeys/ name them. Kept here, not beside those classes, because the scenario
# model checks `abandon_after` against it and must not import the journeys (gevent,
# locust; and they import this package). oidc.discovery is left out on purpose: it is
# fetched once per journey and cached, not per person, so nobody can leave after it.
STEP_REQUESTS: dict[str, tuple[str, ...]] = {
    "form_login": ("login.form", "login.submit"),
    "form_logout": ("logout.form", "logout"),  # logout.form only with csrf_page
    "oidc_login": (
        "oidc.authorize",
        "oidc.login_form",
        "oidc.login_submit",
        "oidc.consent",
        "oidc.token",
    ),
    "oidc_logout": ("oidc.logout",),
    "token_refresh": ("token.refresh",),
    "token_introspect": ("token.introspect",),
    "token_revoke": ("token.revoke",),
    "userinfo": ("oidc.userinfo",),
    "client_credentials": ("token.client_credentials",),
    "api": ("api.call",),  # or each endpoint's name
    "form_signup": ("signup.form", "signup.submit"),
    "email_verify": ("signup.email", "signup.confirm"),  # signup.email: waiting for the mail
    "email_code_login": ("otp.request", "otp.email", "otp.verify"),
    "magic_link_login": ("magic.request", "magic.email", "magic.follow"),
    "json_login": ("login.json",),
    "password_grant": ("token.password",),
    "totp": ("mfa.totp",),  # form mode: GET the code page, POST the code, both mfa.totp
    # device.poll repeats; device.verify is the person's browser (every page of it)
    "device_login": (
        "device.authorize",
        "device.poll",
        "device.verify",
        "device.token",
    ),
}
