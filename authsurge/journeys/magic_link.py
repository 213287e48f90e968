"""Sign-in by e-mailed link (magic_link_login): magic.request (the page asking for the
address, and submitting it), magic.email (waiting for the mail), magic.follow (the link).

For the embedded target's django-sesame links by default (flows.magic_link). The link's
token is a secret: events and reasons show its path only, with the last segment redacted
when the token is in the path (authsurge.journeys.mail_wait.shown_link_path).
"""

from __future__ import annotations

import re

from authsurge.journeys.client import StepFailed
from authsurge.journeys.form_login import CompiledRule, submit
from authsurge.journeys.mail_forms import address_form
from authsurge.journeys.mail_wait import nothing_found, shown_link_path, wait_for_mail
from authsurge.journeys.state import JourneyState
from authsurge.journeys.urls import resolve_url
from authsurge.mail import MailboxClient, extract_link
from authsurge.rundir import records as record
from authsurge.scenario import MagicLinkSettings, MailSettings
from authsurge.secret import Secret


class MagicLinkLogin:
    """The magic_link_login step group."""

    group = "magic_link_login"
    needs_account = True
    logout = False

    def __init__(
        self, settings: MagicLinkSettings, mail: MailSettings, mailbox: MailboxClient
    ) -> None:
        self.settings = settings
        self.mail = mail
        self.mailbox = mailbox
        self.link = re.compile(settings.link_pattern)
        self.rule = CompiledRule(settings.success)

    def __call__(self, state: JourneyState) -> None:
        if state.account is None:
            raise StepFailed("magic.request", record.UNEXPECTED_PAGE, "no account for this journey")
        http, email = state.http, state.account.username
        page = http.request("magic.request", "GET", resolve_url(state.base_url, self.settings.url))
        form, field = address_form(
            http, page, self.settings.email_field, self.settings.request_button
        )
        http.ok(page)
        values: dict[str, str | Secret] = dict(self.settings.request_fields)
        values[field] = email
        asked = submit(http, "magic.request", form, form.fill(values), page.url)
        if asked.status >= 400:
            raise http.fail_status(asked)
        http.ok(asked)
        mail = wait_for_mail(state, "magic.email", self.mailbox, email, asked, self.mail)
        link = extract_link(mail, self.link)
        if link is None:
            raise nothing_found(
                state, "magic.follow", "link matching flows.magic_link.link_pattern"
            )
        resp = http.request("magic.follow", "GET", link, shown_path=shown_link_path(link))
        if self.rule.failures(http, resp):
            if resp.status >= 400:
                raise http.fail_status(resp)
            raise http.fail(resp, record.REJECTED, f"{resp.describe()}: link not accepted")
        http.ok(resp)
