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
from authsurge.journeys.response import Response
from authsurge.journeys.state import JourneyState
from authsurge.mail import Mail, MailboxClient, MailSinkError
from authsurge.rundir import records as record
from authsurge.scenario import MailSettings

# the sink's clock and the load generator's may differ (another host): a mail received
# this much before the request started still counts; each address is the person's own
CLOCK_MARGIN_S = 1.0
MAILBOX_URL = "mail://sink"  # what events show as the step's URL


def wait_for_mail(
    state: JourneyState,
    step: str,
    mailbox: MailboxClient,
    recipient: str,
    asked: Response,
    settings: MailSettings,
) -> Mail:
    """The person's next mail, sent because of the request `asked`; raises StepFailed.

    Its latency runs from the target's answer to `asked` to the mail in the mailbox: the
    provider's delay, not the target's (that is `asked`'s own latency)."""
    answered_at = asked.start + asked.elapsed_ms / 1000.0
    outcome, reason, mail = record.OK, "", None
    try:
        mail = mailbox.wait_for(
            recipient,
            after=asked.start - CLOCK_MARGIN_S,
            timeout_s=settings.wait_s,
            poll_s=settings.poll_s,
        )
        if mail is None:
            outcome, reason = record.TIMEOUT, f"no mail within {settings.wait_s:g} s"
    except MailSinkError:
        outcome, reason = record.CONNECTION, "the mail sink did not answer (harness)"
    elapsed_ms = max(time.time() - answered_at, 0.0) * 1000.0
    state.http.reporter.request(
        "MAIL", step, MAILBOX_URL, 0, answered_at, elapsed_ms, 0, outcome, reason
    )
    if mail is None:
        raise StepFailed(step, outcome, reason)
    return mail


def nothing_found(state: JourneyState, step: str, what: str) -> StepFailed:
    """The StepFailed (reported as the step's event) of a mail that holds no `what` (a
    link or a code matching its setting): nothing was sent to the target."""
    reason = f"the mail has no {what}"
    state.http.reporter.request(
        "MAIL", step, MAILBOX_URL, 0, time.time(), 0.0, 0, record.INVALID_RESPONSE, reason
    )
    return StepFailed(step, record.INVALID_RESPONSE, reason)


def shown_link_path(link: str) -> str:
    """What events and reasons show of an e-mailed link: its path with the last segment,
    where the key usually is, redacted, whether or not the link has a query or a fragment
    too (those are never shown)."""
    head = urlsplit(link).path.rstrip("/").rsplit("/", 1)[0]
    return f"{head}/<redacted>"
