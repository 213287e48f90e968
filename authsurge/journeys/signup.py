"""Sign-up through an HTML form, and its verification mail.

form_signup (signup.form GET, signup.submit POST): a new identity per person and attempt,
on a reserved domain only (flows.signup.email_pattern), with a generated password; the
person's account is then that identity, so later groups (email_verify, form_login,
email_code_login) use it. email_verify (signup.email: waiting for the mail; signup.confirm:
following its link, and submitting the page's form when the target asks to confirm by
POST). Links and passwords are secrets: never in events, reasons or records.
"""

from __future__ import annotations

import re
import secrets

from authsurge.journeys import forms
from authsurge.journeys.client import StepFailed
from authsurge.journeys.credentials import Account
from authsurge.journeys.form_login import CompiledRule, submit
from authsurge.journeys.mail_forms import email_field
from authsurge.journeys.mail_wait import nothing_found, shown_link_path, wait_for_mail
from authsurge.journeys.state import JourneyState
from authsurge.journeys.urls import resolve_url
from authsurge.mail import MailboxClient, extract_link
from authsurge.rundir import records as record
from authsurge.scenario import MailSettings, SignupSettings
from authsurge.secret import Secret

_UNSAFE = re.compile(r"[^a-z0-9.-]+")


class FormSignup:
    """The form_signup step group."""

    group = "form_signup"
    needs_account = False
    creates_account = True  # later groups use the identity it signs up
    logout = False

    def __init__(self, settings: SignupSettings | None = None) -> None:
        self.settings = settings or SignupSettings()
        self.rule = CompiledRule(self.settings.success)
        self.run_token = secrets.token_hex(3)  # per load-generator process: unique per run

    def identity(self, person_id: str, attempt: int) -> str:
        person = _UNSAFE.sub("-", f"{person_id}-a{attempt}".lower())
        return self.settings.email_pattern.format(run=self.run_token, person=person)

    def __call__(self, state: JourneyState) -> None:
        http, spec = state.http, self.settings.form
        page = http.request("signup.form", "GET", resolve_url(state.base_url, self.settings.url))
        if page.status != 200:
            raise http.fail_status(page)
        tree, charset = forms.parse(page.body, page.content_type)
        form = forms.login_form(tree, page.url, charset, spec.selector)
        field = email_field(form, spec.username_field) if form is not None else None
        if form is None or field is None:
            what = "a password input" if form is None else "an e-mail field"
            raise http.fail(
                page, record.UNEXPECTED_PAGE, f"no sign-up form with {what} on {page.path}"
            )
        email = self.identity(state.ctx.person_id, state.ctx.attempt)
        password = Secret(secrets.token_urlsafe(18) + "aA1!", "generated at sign-up")
        values: dict[str, str | Secret] = dict(spec.extra_fields)
        values[field] = email
        for control in form.controls:  # the password and its confirmation
            if control.kind == "password" and control.name:
                values[control.name] = password
        http.ok(page)
        resp = submit(http, "signup.submit", form, form.fill(values), page.url)
        failures = self.rule.failures(http, resp)
        if failures:
            if resp.status >= 400:
                raise http.fail_status(resp)
            raise http.fail(resp, record.REJECTED, f"{resp.describe()}: {'; '.join(failures)}")
        http.ok(resp)
        state.account = Account(email, password)
        state.mail_asked = resp


class EmailVerify:
    """The email_verify step group: the verification mail, then its link."""

    group = "email_verify"
    needs_account = True
    logout = False

    def __init__(self, settings: MailSettings, mailbox: MailboxClient) -> None:
        self.settings = settings
        self.mailbox = mailbox
        self.link = re.compile(settings.link_pattern)
        success = settings.confirm_success
        self.confirmed = CompiledRule(success) if success else None

    def __call__(self, state: JourneyState) -> None:
        if state.account is None or state.mail_asked is None:
            raise StepFailed(
                "signup.email", record.UNEXPECTED_PAGE, "no sign-up before email_verify"
            )
        mail = wait_for_mail(
            state,
            "signup.email",
            self.mailbox,
            state.account.username,
            state.mail_asked,
            self.settings,
        )
        state.mail_asked = None  # the mail is taken: a later wait wants the next one
        link = extract_link(mail, self.link)
        http = state.http
        if link is None:
            raise nothing_found(state, "signup.confirm", "link matching flows.mail.link_pattern")
        shown = shown_link_path(link)
        resp = http.request("signup.confirm", "GET", link, shown_path=shown)
        if resp.status == 200:
            tree, charset = forms.parse(resp.body, resp.content_type)
            form = forms.find_form(tree, resp.url, charset, password=False)
            if form is None or form.method != "POST":
                raise http.fail(resp, record.REJECTED, f"{resp.describe()}: link not accepted")
            http.ok(resp)  # a page asking to confirm: confirm as a person would
            method, url, body, headers = form.request(form.fill(), resp.url)
            resp = http.request(
                "signup.confirm",
                method,
                url,
                body=body,
                headers=headers,
                form=True,
                shown_path=shown_link_path(url),  # the action is the link, or like it
            )
        rule = self.confirmed
        refused = rule.failures(http, resp) if rule else resp.status not in (302, 303)
        if refused:
            if resp.status >= 400:
                raise http.fail_status(resp)
            raise http.fail(resp, record.REJECTED, f"{resp.describe()}: link not accepted")
        http.ok(resp)
