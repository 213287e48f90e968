"""Paths that carry a secret, redacted in the target's own logs.

An e-mail confirmation link and a password-reset link carry their key in the URL path,
not in a query, and DOT's device confirmation and status pages the user code, so leaving
queries out of the access log is not enough: gunicorn's access log (with --access-log)
and Django's request and CSRF warnings would write them, and gunicorn's error log names
a failed request's URI with its query (a magic link's token, the user code of the
device flow's verification_uri_complete, also encoded in a login redirect's next=).
All go through `redact_path` (gunicorn_conf.RedactingLogger, settings.LOGGING's filter).
"""

from __future__ import annotations

import logging
import re

# allauth: /accounts/confirm-email/<key>/, /accounts/password/reset/key/<uidb36>-<key>/;
# DOT's device pages: /o/device-confirm/<client_id>/<user_code> and
# /o/device-grant-status/<client_id>/<user_code> (the client id is kept)
_SECRET_SEGMENT = re.compile(
    r"(/(?:confirm-email|reset/key|device-(?:confirm|grant-status)/[^/\s\"?]+)/)[^/\s\"?]+"
)
# a secret's value in a query, where a message shows a URI (a magic link's ?sesame=, the
# device flow's verification_uri_complete ?user_code=)
_SECRET_PARAM = re.compile(
    r"([?&](?:sesame|token|code|key|user_code|device_code)=)[^&\s\"#]+", re.IGNORECASE
)
# the same inside an encoded URL, as the login redirect's next= carries it:
# /accounts/login/?next=/o/device/%3Fuser_code%3D...
_ENCODED_PARAM = re.compile(r"((?:%3F|%26)(?:user_code|device_code)%3D)[^&\s\"#%]+", re.IGNORECASE)
REDACTED = "<redacted>"


def redact_path(text: str) -> str:
    """`text` with every secret-bearing path segment and secret query value replaced by
    <redacted> (other query parameters are kept)."""
    text = _SECRET_SEGMENT.sub(lambda m: m.group(1) + REDACTED, text)
    text = _ENCODED_PARAM.sub(lambda m: m.group(1) + REDACTED, text)
    return _SECRET_PARAM.sub(lambda m: m.group(1) + REDACTED, text)


class RedactSecretPaths(logging.Filter):
    """Rewrites a log record's message with `redact_path` (the record is kept)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_path(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
