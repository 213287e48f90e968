"""Reading the secret out of a mail: the magic link or the one-time code a journey needs.

Both return None rather than raise when the mail has none, so a journey reports "no
sign-in link in the mail" in its own words, and no exception ever carries the body.
"""

from __future__ import annotations

import re

from authsurge.mail.message import Mail

URL = re.compile(r"https?://[^\s<>\"'()\[\]{}]+")
# a sentence's full stop or comma after a link is not part of it
TRAILING = ".,;:!?"
CODE = r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b|\b\d{6}\b"  # allauth's XXXX-XXXX, or six digits


def links(mail: Mail) -> list[str]:
    """Every http(s) URL in the mail's body, in order."""
    return [match.group(0).rstrip(TRAILING) for match in URL.finditer(mail.body)]


def extract_link(mail: Mail, pattern_or_prefix: str | re.Pattern[str]) -> str | None:
    """The first http(s) URL in the body that starts with `pattern_or_prefix` (a str,
    e.g. the target's base URL, "http://127.0.0.1:8000/accounts/confirm-email/") or that
    it matches anywhere (a compiled re.Pattern); None when none does."""
    for link in links(mail):
        if isinstance(pattern_or_prefix, re.Pattern):
            if pattern_or_prefix.search(link):
                return link
        elif link.startswith(pattern_or_prefix):
            return link
    return None


def extract_code(mail: Mail, regex: str | re.Pattern[str] = CODE) -> str | None:
    """The first match of `regex` in the body (its first group when it has one), e.g.
    a sign-in code "BCDF-GHJK" (allauth) or "482913"; None when nothing matches."""
    match = re.search(regex, mail.body)
    if match is None:
        return None
    return match.group(1) if match.re.groups else match.group(0)
