"""Paths that carry a secret, redacted in the target's own logs.

An e-mail confirmation link and a password-reset link carry their key in the URL path,
not in a query, so leaving queries out of the access log is not enough: gunicorn's access
log (with --access-log) and Django's request and CSRF warnings would write the key, and
gunicorn's error log names a failed request's URI with its query (a magic link's token).
All go through `redact_path` (gunicorn_conf.RedactingLogger, settings.LOGGING's filter).
"""

from __future__ import annotations

import logging
import re

# allauth: /accounts/confirm-email/<key>/, /accounts/password/reset/key/<uidb36>-<key>/
_SECRET_SEGMENT = re.compile(r"(/(?:confirm-email|reset/key)/)[^/\s\"?]+")
# a secret's value in a query, where a message shows a URI (a magic link's ?sesame=)
_SECRET_PARAM = re.compile(r"([?&](?:sesame|token|code|key)=)[^&\s\"#]+")
REDACTED = "<redacted>"


def redact_path(text: str) -> str:
    """`text` with every secret-bearing path segment and secret query value replaced by
    <redacted> (other query parameters are kept)."""
    text = _SECRET_SEGMENT.sub(lambda m: m.group(1) + REDACTED, text)
    return _SECRET_PARAM.sub(lambda m: m.group(1) + REDACTED, text)


class RedactSecretPaths(logging.Filter):
    """Rewrites a log record's message with `redact_path` (the record is kept)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_path(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
