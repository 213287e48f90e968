"""Sign-in by e-mailed link (magic_link_login): magic.request (the page asking for the
address, and submitting it), magic.email (waiting for the mail), magic.follow (the link).

For the embedded target's django-sesame links by default (flows.magic_link). The link's
token is a secret: events and reasons show its path only, with the last segment redacted
when the token is in the path (authsurge.journeys.mail_wait.shown_link_path).
"""

from __future__ import annotations

import re

from authsurge.journeys.form_login import CompiledRule
from authsurge.journeys.mail_forms import ask_for_mail
from authsurge.journeys.mail_wait import nothing_found, shown_link_path, wait_for_mail
from authsurge.journeys.state import JourneyState
from authsurge.mail import MailboxClient, extract_link
from authsurge.rundir import records as record
from authsurge.scenario import MagicLinkSettings, MailSettings


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
        settings, http = self.settings, state.http
        asked, email = ask_for_mail(
            state,
            "magic.request",
            settings.url,
            settings.email_field,
            settings.request_button,
            settings.request_fields,
        )
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
