"""Flow settings of the step groups that go through e-mail: sign-up (form_signup), its
verification mail (email_verify) and sign-in by e-mailed code (email_code_login), and
where their mail is read (the mail sink's mailboxes, authsurge.mail).

Defaults fit django-allauth (the embedded target with --signup); a third-party target
changes them by configuration only.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, field_validator

from authsurge.scenario.base import Strict
from authsurge.scenario.forms import FormSpec, SuccessRule


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from None
    return value


class SignupSettings(Strict):
    url: str = "/accounts/signup/"
    # a new identity per person: {run} is a random token of the load generator's process
    # (unique per run), {person} the person's id; only reserved domains (.test, .example)
    email_pattern: str = "surge-{run}-{person}@signup.example.test"
    # the form with a password input; its e-mail field is found by type=email or a name
    # containing "email" unless form.username_field names it; every password input (and
    # its confirmation) gets the person's generated password
    form: FormSpec = Field(default_factory=FormSpec)
    success: SuccessRule = Field(default_factory=lambda: SuccessRule(status=[302, 303]))

    @field_validator("email_pattern")
    @classmethod
    def _reserved(cls, value: str) -> str:
        domain = value.rsplit("@", 1)[-1].lower()
        if "@" not in value or not domain.endswith((".test", ".example")):
            raise ValueError(
                "sign-up addresses must be on a reserved domain (.test or .example), "
                f"so that no mail can reach a real person: {value!r}"
            )
        if "{person}" not in value:
            raise ValueError("email_pattern needs {person}: every person signs up once")
        return value


class MailSettings(Strict):
    # the mail sink's HTTP API (authsurge/mail/README.md); None: the run starts the sink
    # and fills this in
    mailbox_url: str | None = None
    wait_s: Annotated[float, Field(gt=0, le=600)] = 30.0  # a mail later than this: timeout
    # the confirmation link in the verification mail (the first match)
    link_pattern: str = r"https?://[^\s<>\"']*confirm[^\s<>\"']*"
    # the code in a sign-in mail: allauth's XXXX-XXXX, or six digits
    code_pattern: str = r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b|\b\d{6}\b"

    _check = field_validator("link_pattern", "code_pattern")(classmethod(lambda cls, v: _regex(v)))


class EmailCodeSettings(Strict):
    url: str = "/accounts/login/code/"  # the page asking for the e-mail address
    email_field: str | None = None  # default: type=email or a name containing "email"
    code_field: str | None = None  # default: the form's only visible text input
    success: SuccessRule = Field(default_factory=lambda: SuccessRule(status=[302, 303]))
