"""The target's logs never carry a confirmation link's key or a sign-in link's token
(authsurge.target.redaction)."""

from __future__ import annotations

import logging

from authsurge.target.redaction import RedactSecretPaths, redact_path


def test_a_confirmation_key_in_a_path_is_redacted_and_other_paths_are_kept():
    assert redact_path("GET /accounts/confirm-email/MQ:1tAbc:xyz/ 302") == (
        "GET /accounts/confirm-email/<redacted>/ 302")
    assert redact_path("/accounts/password/reset/key/1-abc-def/") == (
        "/accounts/password/reset/key/<redacted>/")
    assert redact_path("/accounts/login/code/confirm/") == "/accounts/login/code/confirm/"


def test_a_log_record_naming_the_key_is_rewritten():
    record = logging.LogRecord("django.request", logging.ERROR, __file__, 1,
                               "Internal Server Error: %s", ("/accounts/confirm-email/KEY123/",), None)
    assert RedactSecretPaths().filter(record)
    assert "KEY123" not in record.getMessage() and "<redacted>" in record.getMessage()


def test_a_sign_in_token_in_a_query_is_redacted_and_other_parameters_are_kept():
    assert redact_path("GET /accounts/magic/login/?sesame=AAAAAWdK-x_9Zk3 HTTP/1.1") == (
        "GET /accounts/magic/login/?sesame=<redacted> HTTP/1.1")
    assert redact_path("/accounts/magic/login/?next=/x&sesame=AbC-_1&a=b") == (
        "/accounts/magic/login/?next=/x&sesame=<redacted>&a=b")
    assert redact_path("/accounts/magic/login/?next=/accounts/profile/") == (
        "/accounts/magic/login/?next=/accounts/profile/")
