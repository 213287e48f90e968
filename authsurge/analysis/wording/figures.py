"""The number formats every page uses (so the pages and analysis.json agree), the plain
names of the steps, and the type of one finding."""

from __future__ import annotations

from typing import Any

Finding = dict[str, Any]  # one entry of analysis.json's "findings"

PLAIN_STEPS = {
    "login.form": "loading the sign-in page",
    "login.submit": "submitting the sign-in form, where the password is checked",
    "logout": "signing out",
    "oidc.discovery": "looking up the sign-in configuration",
    "oidc.authorize": "starting a single sign-on request",
    "oidc.login_form": "loading the single sign-on page",
    "oidc.login_submit": "submitting the single sign-on form, where the password is checked",
    "oidc.consent": "the consent screen",
    "oidc.token": "exchanging the sign-in code for access tokens",
    "token.refresh": "renewing access tokens",
    "token.introspect": "checking access tokens",
    "token.revoke": "revoking access tokens",
    "oidc.userinfo": "fetching the signed-in user's profile",
    "token.client_credentials": "issuing service-to-service tokens",
    "api.call": "calling the app's API",
    "oidc.logout": "signing out of single sign-on",
    "login.json": "signing in through the app's JSON API, where the password is checked",
    "token.password": "signing in with the OAuth password grant, where the password is checked",
    "mfa.totp": "checking the one-time code of the second factor",
    "device.authorize": "starting a device sign-in (a CLI asking for a code)",
    "device.poll": "a CLI polling for its token while the person approves",
    "device.verify": "the person approving a device sign-in in the browser",
    "device.token": "issuing a device's token",
}


def rate(x: float | None) -> str:
    """A rate as printed everywhere: 2,100 / 55.6 / 4.25."""
    if x is None:
        return "?"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def multiple(x: float | None) -> str:
    return "?" if x is None else f"{x:.1f}x"


def ms(x: float | None) -> str:
    return "?" if x is None else f"{x:,.0f} ms"


def percent(x: float | None) -> str:
    return "?" if x is None else f"{x * 100:.1f}%"


def plain(step: str) -> str:
    return PLAIN_STEPS.get(step, step)


def listed(names: list[str]) -> str:
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]


def contrast_words(
    held: bool | None, up: bool, people: str, sign_in: str, at: str, api: str
) -> str:
    """The contrast both registers say, in their own words for `people`, the figures and
    `at`: 'sign-in failed at the peak (...) while the API of ... stayed up (...)'."""
    if held is None:
        return f"{people} {'stayed up' if up else 'failed'} {at} ({api})"
    them = {
        (False, True): f"while {people} stayed up",
        (False, False): f"and {people} failed with it",
        (True, True): f"and {people} stayed up",
        (True, False): f"but {people} failed",
    }[(held, up)]
    return f"sign-in {'held' if held else 'failed'} {at} ({sign_in}) {them} ({api})"
