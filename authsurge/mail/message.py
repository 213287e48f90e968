"""One received mail, and how its text is read from the raw MIME message.

Mail bodies hold one-time codes and magic links: secrets as much as a password. A `Mail`
never shows its body or subject in repr/str (so it cannot leak into a log line, a record,
an assertion message or an exception), and nothing in this package logs them.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from email.message import EmailMessage, MIMEPart
from html.parser import HTMLParser
from typing import Any


@dataclass(frozen=True, repr=False)
class Mail:
    """A mail as the recipient's mailbox shows it."""

    recipient: str
    """The envelope recipient (RCPT TO), lower-cased: the mailbox the mail went to."""
    sender: str
    """The envelope sender (MAIL FROM)."""
    subject: str
    body: str
    """The text body: text/plain when there is one, else text/html stripped to text."""
    received_at: float
    """When the sink received the mail (its time.time())."""

    def __repr__(self) -> str:
        return (
            f"Mail(recipient={self.recipient!r}, sender={self.sender!r}, "
            f"subject=<{len(self.subject)} chars, hidden>, "
            f"body=<{len(self.body)} chars, hidden>, received_at={self.received_at:.3f})"
        )

    __str__ = __repr__

    def as_dict(self) -> dict[str, Any]:
        """The mail as the sink's HTTP API sends it (secrets included: for the wire only)."""
        return {
            "recipient": self.recipient,
            "sender": self.sender,
            "subject": self.subject,
            "body": self.body,
            "received_at": self.received_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Mail:
        """The inverse of as_dict; ValueError (naming no value) when a field is missing
        or of the wrong type."""
        try:
            mail = cls(
                recipient=data["recipient"],
                sender=data["sender"],
                subject=data["subject"],
                body=data["body"],
                received_at=float(data["received_at"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a mail: {type(exc).__name__} on a field") from None
        texts = (mail.recipient, mail.sender, mail.subject, mail.body)
        if not all(isinstance(text, str) for text in texts):
            raise ValueError("not a mail: a text field is not a string")
        return mail


def parse_mail(raw: bytes, *, recipient: str, sender: str, received_at: float) -> Mail:
    """The mail a mailbox shows for the raw message `raw` sent to `recipient`."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)  # what the default policy builds
    subject = str(message.get("subject", "") or "")
    return Mail(
        recipient=recipient.lower(),
        sender=sender,
        subject=" ".join(subject.split()),
        body=text_body(message),
        received_at=received_at,
    )


def text_body(message: EmailMessage) -> str:
    """The message's text: its text/plain part, else its text/html part as text, else ""."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    # SMTP carries CRLF line ends; a mailbox shows lines
    text = _part_text(part).replace("\r\n", "\n")
    if part.get_content_subtype() == "html":
        return html_to_text(text)
    return text


def _part_text(part: MIMEPart) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):  # an unknown or lying charset
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else ""


def html_to_text(html: str) -> str:
    """The readable text of an HTML mail; each link's address follows its text in
    parentheses, since a magic link is often behind "Click here"."""
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.out).splitlines())
    return "\n".join(line for line in lines if line)


class _TextParser(HTMLParser):
    BLOCKS = frozenset({"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "table", "hr"})
    HIDDEN = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.hidden = 0
        self.links: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.out.append("\n")
        elif tag == "a":
            self.links.append(dict(attrs).get("href"))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.out.append("\n")
        elif tag == "a" and self.links:
            href = self.links.pop()
            if href and href.startswith(("http://", "https://")):
                self.out.append(f" ({href}) ")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.out.append(data)
