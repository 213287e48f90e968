"""Sign-up and mail flow settings: generated addresses stay on reserved domains."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from authsurge.scenario import MailSettings, SignupSettings


def test_a_sign_up_address_off_the_reserved_domains_is_refused():
    with pytest.raises(ValidationError, match="reserved domain"):
        SignupSettings(email_pattern="surge-{person}@gmail.com")
    with pytest.raises(ValidationError, match="needs \\{person\\}"):
        SignupSettings(email_pattern="surge@signup.example.test")
    assert SignupSettings(email_pattern="a-{person}@x.example").email_pattern


def test_a_mail_pattern_that_is_no_regular_expression_is_refused():
    with pytest.raises(ValidationError, match="not a regular expression"):
        MailSettings(code_pattern="([A-Z")
