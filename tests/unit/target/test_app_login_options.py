"""--app-login and --mfa-users: refused unless they fit together, passed on as environment."""

from __future__ import annotations

import pytest

from authsurge.errors import BadInput
from authsurge.target.options import DEFAULT_MFA_USERS, TargetOptions, server_env


@pytest.mark.parametrize(("options", "says"), [
    ({"mfa_users": 3}, "--mfa-users only makes sense with --app-login"),
    ({"mfa_users": 0}, "--mfa-users only makes sense with --app-login"),
    ({"app_login": True, "mfa_users": -1}, "--mfa-users must be 0..100000"),
    ({"app_login": True, "mfa_users": 100_001}, "--mfa-users must be 0..100000"),
    ({"signup_rate_limits": True}, "only makes sense with --signup or --app-login"),
])
def test_app_login_options_that_do_not_fit_are_refused(options, says):
    with pytest.raises(BadInput, match=says):
        TargetOptions(**options).checked()


def test_mfa_accounts_default_to_20_with_app_login_and_none_without():
    assert TargetOptions().checked().mfa_count == 0
    assert TargetOptions(app_login=True).checked().mfa_count == DEFAULT_MFA_USERS == 20
    assert TargetOptions(app_login=True, mfa_users=0).checked().mfa_count == 0


def test_app_login_reaches_the_server_as_environment_rate_limits_off_unless_asked(tmp_path):
    env = server_env(TargetOptions(app_login=True).checked(), tmp_path, 8000)
    assert env["AUTHSURGE_TARGET_APP_LOGIN"] == "1"
    assert env["AUTHSURGE_TARGET_SIGNUP_RATE_LIMITS"] == "0"
    assert "AUTHSURGE_TARGET_SIGNUP" not in env
    kept = server_env(TargetOptions(app_login=True, signup_rate_limits=True).checked(), tmp_path, 8000)
    assert kept["AUTHSURGE_TARGET_SIGNUP_RATE_LIMITS"] == "1"
    assert "AUTHSURGE_TARGET_APP_LOGIN" not in server_env(TargetOptions().checked(), tmp_path, 8000)


def test_app_login_combines_with_signup(tmp_path):
    opts = TargetOptions(app_login=True, signup=True, smtp_port=2525, mfa_users=5).checked()
    env = server_env(opts, tmp_path, 8000)
    assert env["AUTHSURGE_TARGET_APP_LOGIN"] == env["AUTHSURGE_TARGET_SIGNUP"] == "1"
    assert opts.mfa_count == 5
