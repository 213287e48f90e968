"""A local mail provider for runs: the target sends its sign-up and sign-in mails to an
SMTP server of authsurge's own (`MailSink`, on 127.0.0.1), which can be late, lose and
refuse mail like a real provider (`SinkBehaviour`); journeys read the mailboxes over HTTP
(`MailboxClient`) and take the code or link they need (`extract_code`, `extract_link`).

Mail bodies are secrets: no repr, log line or error of this package shows one
(authsurge/mail/README.md).
"""

from authsurge.mail.behaviour import REJECT_CODES, Fate, SinkBehaviour
from authsurge.mail.client import MailboxClient, MailSinkError
from authsurge.mail.extract import extract_code, extract_link, links
from authsurge.mail.message import Mail
from authsurge.mail.sink import MailSink

__all__ = [
    "REJECT_CODES",
    "Fate",
    "Mail",
    "MailSink",
    "MailSinkError",
    "MailboxClient",
    "SinkBehaviour",
    "extract_code",
    "extract_link",
    "links",
]
