"""Sign-in by e-mailed code (email_code_login): otp.request (the page asking for the
address, and submitting it), otp.email (waiting for the mail), otp.verify (the page
asking for the code, and submitting it).

For django-allauth's login by code by default (flows.email_code); a target that asks for
the address and the code on other pages is configured, not coded. The code is a secret:
it is sent in the form's body and never appears in events, reasons or records.
"""

from __future__ import annotations

import re

from authsurge.journeys import forms
from authsurge.journeys.client import HttpClient, Response
from authsurge.journeys.form_login import CompiledRule, submit
from authsurge.journeys.mail_forms import ask_for_mail
from authsurge.journeys.mail_wait import nothing_found, wait_for_mail
from authsurge.journeys.state import JourneyState
from authsurge.journeys.urls import resolve_url
from authsurge.mail import MailboxClient, extract_code
from authsurge.rundir import records as record
from authsurge.scenario import EmailCodeSettings, MailSettings
from authsurge.secret import Secret

_TEXT = ("text", "tel", "number", "")


def code_field(form: forms.Form, given: str | None) -> str | None:
    """The code input: `given`, else one named "code", else the only visible text input."""
    if given:
        return given
    if "code" in form.names():
        return "code"
    texts = [c.name for c in form.controls if c.kind in _TEXT and c.name]
    return texts[0] if len(texts) == 1 else None


class EmailCodeLogin:
    """The email_code_login step group."""

    group = "email_code_login"
    needs_account = True
    logout = False

    def __init__(
        self, settings: EmailCodeSettings, mail: MailSettings, mailbox: MailboxClient
    ) -> None:
        self.settings = settings
        self.mail = mail
        self.mailbox = mailbox
        self.code = re.compile(mail.code_pattern)
        self.rule = CompiledRule(settings.success)

    def __call__(self, state: JourneyState) -> None:
        settings, http = self.settings, state.http
        asked, email = ask_for_mail(
            state,
            "otp.request",
            settings.url,
            settings.email_field,
            settings.request_button,
            settings.request_fields,
        )
        # the code is asked for on the page the request redirects to (allauth), or on the
        # page it answers with (Flask-Security's unified sign-in)
        code_page = None
        if asked.status == 200:
            code_page = self._code_form(asked)
            if code_page is None:
                raise http.fail(asked, record.REJECTED, f"{asked.describe()}: no code sent")
        elif asked.status not in (302, 303):
            if asked.status >= 400:
                raise http.fail_status(asked)
            raise http.fail(asked, record.REJECTED, f"{asked.describe()}: no code sent")
        http.ok(asked)
        mail = wait_for_mail(state, "otp.email", self.mailbox, email, asked, self.mail)
        found = extract_code(mail, self.code)
        if found is None:
            raise nothing_found(state, "otp.verify", "code matching flows.mail.code_pattern")
        code = Secret(found, "the sign-in mail")
        start_over = resolve_url(state.base_url, self.settings.url).split("?", 1)[0]
        if code_page is None:
            location = asked.location or start_over
            page = http.request("otp.verify", "GET", location)
            self._refuse_start_over(http, page, start_over)
            if page.status != 200:
                raise http.fail_status(page)
            code_page = self._code_form(page)
            if code_page is None:
                raise http.fail(page, record.UNEXPECTED_PAGE, f"no code field on {page.path}")
            http.ok(page)
            url = page.url
        else:
            url = asked.url
        form, name = code_page
        values: dict[str, str | Secret] = dict(self.settings.verify_fields)
        values[name] = code
        resp = submit(http, "otp.verify", form, form.fill(values), url)
        self._refuse_start_over(http, resp, start_over)
        if self.rule.failures(http, resp):
            if resp.status >= 400:
                raise http.fail_status(resp)
            raise http.fail(resp, record.REJECTED, f"{resp.describe()}: code not accepted")
        http.ok(resp)

    @staticmethod
    def _refuse_start_over(http: HttpClient, resp: Response, start_over: str) -> None:
        """A redirect back to the page asking for the address is a rejection: allauth's
        answer to an expired code, and to too many wrong ones (the code is void)."""
        if resp.location is not None and resp.location.split("?", 1)[0] == start_over:
            raise http.fail(resp, record.REJECTED, f"{resp.describe()}: sent back to ask again")

    def _code_form(self, page: Response) -> tuple[forms.Form, str] | None:
        """The form on `page` with a code field (pressed with flows.email_code.verify_button
        when one is named), and the field's name; None without one."""
        tree, charset = forms.parse(page.body, page.content_type)
        for form in forms.forms_in(tree, page.url, charset):
            name = code_field(form, self.settings.code_field)
            # a form with a password input is a login form, unless the code field was
            # named (Flask-Security's passcode input is type=password)
            if name in form.names() and (self.settings.code_field or not form.has_password):
                button = self.settings.verify_button
                pressed = form.pressing(button, page.url) if button else form
                if pressed is not None:
                    return pressed, name
        return None
