"""--signup and its mail options: refused unless they fit together, passed on as environment."""

from __future__ import annotations

import pytest

from authsurge.errors import BadInput
from authsurge.target.options import TargetOptions, server_env


@pytest.mark.parametrize(("options", "says"), [
    ({"signup": True}, "--signup needs --smtp-port"),
    ({"signup": True, "smtp_port": 0}, "--smtp-port 0"),
    ({"signup": True, "smtp_port": 70000}, "--smtp-port 70000"),
    ({"signup": True, "smtp_port": 2525, "signup_verification": "sms"}, "--signup-verification"),
    ({"smtp_port": 2525}, "--smtp-port only makes sense with --signup"),
    ({"signup_rate_limits": True}, "--signup-rate-limits only makes sense with --signup"),
    ({"signup_verification": "code"}, "--signup-verification only makes sense with --signup"),
    ({"signup": True, "smtp_port": 2525, "magic_link_max_age_s": 0}, "magic_link_max_age_s"),
    ({"magic_link_max_age_s": 60}, "magic_link_max_age_s only makes sense with signup"),
    ({"login_code_timeout_s": 60}, "login_code_timeout_s only makes sense with signup"),
])
def test_signup_options_that_do_not_fit_are_refused_by_flag(options, says):
    with pytest.raises(BadInput, match=says):
        TargetOptions(**options).checked()


def test_signup_reaches_the_server_as_environment(tmp_path):
    opts = TargetOptions(signup=True, smtp_port=2525, signup_verification="code").checked()
    env = server_env(opts, tmp_path, 8000)
    assert env["AUTHSURGE_TARGET_SIGNUP"] == "1"
    assert env["AUTHSURGE_TARGET_SMTP_PORT"] == "2525"
    assert env["AUTHSURGE_TARGET_SIGNUP_VERIFICATION"] == "code"
    assert env["AUTHSURGE_TARGET_SIGNUP_RATE_LIMITS"] == "0"


def test_without_signup_no_signup_setting_reaches_the_server(tmp_path):
    env = server_env(TargetOptions().checked(), tmp_path, 8000)
    assert not any("SIGNUP" in name or "SMTP" in name for name in env)
