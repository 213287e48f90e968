"""Flow settings of the step groups that go through e-mail: sign-up (form_signup), its
verification mail (email_verify), sign-in by e-mailed code (email_code_login) and by
e-mailed link (magic_link_login), and
where their mail is read (the mail sink's mailboxes, authsurge.mail).

Defaults fit django-allauth (the embedded target with --signup); a third-party target
changes them by configuration only.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

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


# the step groups that read a person's mail (the run starts a sink for them)
MAIL_GROUPS = ("email_verify", "email_code_login", "magic_link_login")
# their steps that wait for a mail: measured like requests, but the target serves none
# of them (the analysis leaves them out of the cost model)
MAIL_WAIT_STEPS = ("signup.email", "otp.email", "magic.email")


class MailSinkConfig(Strict):
    """The mail sink a run starts (authsurge.mail): where the target sends its mail, and
    how the simulated provider treats it (authsurge.mail.SinkBehaviour)."""

    smtp_port: Annotated[int, Field(ge=1, le=65535)] = 2525  # the target's SMTP: 127.0.0.1:this
    delay_s: Annotated[float, Field(ge=0)] = 0.0  # before a mail shows in the mailbox
    jitter_s: Annotated[float, Field(ge=0)] = 0.0  # a uniform extra delay
    drop_share: Annotated[float, Field(ge=0, le=1)] = 0.0  # accepted, never delivered
    reject_share: Annotated[float, Field(ge=0, le=1)] = 0.0  # answered with reject_code
    reject_code: Literal[421, 451] = 451
    seed: int = 0


class MailSettings(Strict):
    # the HTTP API of a mail sink already running (authsurge/mail/README.md); None: the
    # run starts one as `sink` says and fills this in
    mailbox_url: str | None = None
    sink: MailSinkConfig = Field(default_factory=MailSinkConfig)
    wait_s: Annotated[float, Field(gt=0, le=600)] = 30.0  # a mail later than this: timeout
    # how often a waiting person asks the sink: each ask is an HTTP request from the load
    # generator, so 500 people waiting at 0.25 s are 2,000 requests a second
    poll_s: Annotated[float, Field(ge=0.01, le=5)] = 0.25
    # the confirmation link in the verification mail (the first match)
    link_pattern: str = r"https?://[^\s<>\"']*confirm[^\s<>\"']*"
    # how following it is judged (None: any 302/303); a target that redirects good and
    # used links alike tells them apart by where (e.g. redirect_matches: "/login$")
    confirm_success: SuccessRule | None = None
    # the code in a sign-in mail: allauth's XXXX-XXXX, or six digits
    code_pattern: str = r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b|\b\d{6}\b"

    _check = field_validator("link_pattern", "code_pattern")(classmethod(lambda cls, v: _regex(v)))


class EmailCodeSettings(Strict):
    url: str = "/accounts/login/code/"  # the page asking for the e-mail address
    email_field: str | None = None  # default: type=email or a name containing "email"
    code_field: str | None = None  # default: "code", else the form's only visible text input
    # sent with the address (e.g. Flask-Security's chosen_method: email) and with the code
    request_fields: dict[str, str] = Field(default_factory=dict)
    verify_fields: dict[str, str] = Field(default_factory=dict)
    # the submit button to press (its formaction followed), by name; default: the first
    request_button: str | None = None
    verify_button: str | None = None
    success: SuccessRule = Field(default_factory=lambda: SuccessRule(status=[302, 303]))


class MagicLinkSettings(Strict):
    url: str = "/accounts/magic/"  # the page asking for the e-mail address
    email_field: str | None = None  # default: type=email or a name containing "email"
    request_fields: dict[str, str] = Field(default_factory=dict)  # sent with the address
    request_button: str | None = None  # the submit button to press, by name
    # the sign-in link in the mail (the first match); its token is a secret
    link_pattern: str = r"https?://[^\s<>\"']*(?:magic|sesame|login)[^\s<>\"']*"
    success: SuccessRule = Field(default_factory=lambda: SuccessRule(status=[302, 303]))

    _check = field_validator("link_pattern")(classmethod(lambda cls, v: _regex(v)))
