"""Waiting for a person's mail as a step of its own (signup.email, otp.email).

The wait is reported like a request (method MAIL, no status) so that mail delay shows in
curves, knees and first-to-fail like any other step: its latency runs from when the
target was asked to send (the request's start) until the mail is in the person's
mailbox. A mail that never comes within `flows.mail.wait_s` is a timeout at that step;
a mail sink that does not answer is the harness's failure (outcome connection, reason
says so). Nothing about the mail's content is ever reported.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from authsurge.journeys.client import StepFailed
from authsurge.journeys.state import JourneyState
from authsurge.mail import Mail, MailboxClient, MailSinkError
from authsurge.rundir import records as record

# the sink's clock and the load generator's may differ (another host): a mail received
# this much before the request started still counts; each address is the person's own
CLOCK_MARGIN_S = 1.0
MAILBOX_URL = "mail://sink"  # what events show as the step's URL


def wait_for_mail(
    state: JourneyState,
    step: str,
    mailbox: MailboxClient,
    recipient: str,
    sent_at: float,
    wait_s: float,
) -> Mail:
    """The person's next mail sent at or after `sent_at` (epoch s); raises StepFailed."""
    reporter = state.http.reporter
    outcome, reason, mail = record.OK, "", None
    try:
        mail = mailbox.wait_for(recipient, after=sent_at - CLOCK_MARGIN_S, timeout_s=wait_s)
        if mail is None:
            outcome, reason = record.TIMEOUT, f"no mail within {wait_s:g} s"
    except MailSinkError:
        outcome, reason = record.CONNECTION, "the mail sink did not answer (harness)"
    elapsed_ms = max(time.time() - sent_at, 0.0) * 1000.0
    reporter.request("MAIL", step, MAILBOX_URL, 0, sent_at, elapsed_ms, 0, outcome, reason)
    if mail is None:
        raise StepFailed(step, outcome, reason)
    return mail


def shown_link_path(link: str) -> str:
    """What events and reasons show of an e-mailed link: its path without the secret.
    A link whose secret is in its query shows its path (queries are never shown);
    otherwise the last path segment is the key and is redacted."""
    parts = urlsplit(link)
    if parts.query:
        return parts.path or "/"
    head = parts.path.rstrip("/").rsplit("/", 1)[0]
    return f"{head}/<redacted>"
