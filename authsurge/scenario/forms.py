"""How a form is found, filled and judged: shared by the sign-in and sign-up flows."""

from __future__ import annotations

from pydantic import Field

from authsurge.scenario.base import Strict


class SuccessRule(Strict):
    """How a form POST is judged a successful login; every rule given must hold."""

    status: list[int] | None = None  # e.g. [302, 303]
    redirect_matches: str | None = None  # regex on the Location header
    cookie_set: str | None = None  # a cookie with this name must be set
    text_present: str | None = None
    text_absent: str | None = None


class FormSpec(Strict):
    """Where a login form is and what its fields are called (auto-detected when left out)."""

    selector: str | None = None  # CSS selector of the form; default: the form with a password input
    username_field: str | None = None
    password_field: str | None = None
    extra_fields: dict[str, str] = Field(default_factory=dict)
