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


def test_a_user_code_in_the_device_pages_paths_is_redacted_and_the_client_id_kept():
    assert redact_path('"POST /o/device-confirm/surge-device/N0SGII2B" 302') == (
        '"POST /o/device-confirm/surge-device/<redacted>" 302')
    assert redact_path("GET /o/device-grant-status/surge-device/KIO2QC7T HTTP/1.1") == (
        "GET /o/device-grant-status/surge-device/<redacted> HTTP/1.1")
    assert redact_path("/o/device/") == "/o/device/"
    assert redact_path("/o/device-authorization/") == "/o/device-authorization/"


def test_a_user_code_in_a_query_also_inside_an_encoded_next_is_redacted():
    assert redact_path("GET /o/device/?user_code=N0SGII2B HTTP/1.1") == (
        "GET /o/device/?user_code=<redacted> HTTP/1.1")
    assert redact_path("/accounts/login/?next=/o/device/%3Fuser_code%3DN0SGII2B&x=1") == (
        "/accounts/login/?next=/o/device/%3Fuser_code%3D<redacted>&x=1")
    assert redact_path("/o/token/?device_code=DdTner4knWLm") == "/o/token/?device_code=<redacted>"
