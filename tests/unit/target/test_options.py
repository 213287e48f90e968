"""The embedded target only ever listens on loopback, or on the multi-host test's own
link-local links (169.254.77.0/24): private, public and other link-local addresses are refused."""

from __future__ import annotations

import pytest

from authsurge.errors import BadInput
from authsurge.target.options import TargetOptions, is_listenable, is_loopback


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("192.168.1.5", False), ("10.1.2.3", False), ("203.0.113.9", False), ("0.0.0.0", False),
    ("::", False), ("auth.example", False),
])
def test_only_loopback_counts_as_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_a_target_on_a_private_address_is_refused():
    with pytest.raises(BadInput, match="loopback"):
        TargetOptions(host="192.168.1.5").checked()


@pytest.mark.parametrize(("host", "listenable"), [
    ("127.0.0.1", True), ("169.254.77.1", True), ("169.254.77.254", True),
    ("169.254.77.0", False), ("169.254.77.255", False),
    ("169.254.78.1", False), ("169.254.76.255", False), ("169.254.1.1", False),
    ("10.0.0.1", False), ("fe80::1", False),
])
def test_the_multi_host_tests_links_are_listenable_in_a_namespace_and_no_other_address(
    host, listenable, monkeypatch
):
    monkeypatch.setattr("authsurge.target.options.in_test_namespace", lambda: True)
    assert is_listenable(host) is listenable
    if listenable:
        assert TargetOptions(host=host).checked().host == host
    else:
        with pytest.raises(BadInput, match="169.254.77.0/24"):
            TargetOptions(host=host).checked()


def test_the_test_links_are_refused_outside_the_multi_host_tests_namespaces(monkeypatch):
    """A link-local address can be on a real network card: outside the test's namespaces
    the target never listens on one."""
    monkeypatch.setattr("authsurge.target.options.in_test_namespace", lambda: False)
    assert not is_listenable("169.254.77.1")
    with pytest.raises(BadInput, match="network namespace of the multi-host test"):
        TargetOptions(host="169.254.77.1").checked()


@pytest.mark.parametrize(("option", "value", "says"), [
    ("per_ip_limit", 0, "--per-ip-limit"),
    ("token_lifetime_s", 0, "--token-lifetime"),
    ("session_age_s", 31 * 86400, "--session-age"),
])
def test_limits_and_lifetimes_out_of_range_are_refused_by_flag(option, value, says):
    with pytest.raises(BadInput, match=says):
        TargetOptions(**{option: value}).checked()


def test_limits_and_lifetimes_reach_the_server_as_environment(tmp_path):
    from authsurge.target.options import server_env

    env = server_env(TargetOptions(per_ip_limit=8, token_lifetime_s=3, session_age_s=5).checked(),
                     tmp_path, 8000)
    assert env["AUTHSURGE_TARGET_PER_IP_LIMIT"] == "8"
    assert env["AUTHSURGE_TARGET_TOKEN_LIFETIME_S"] == "3"
    assert env["AUTHSURGE_TARGET_SESSION_AGE_S"] == "5"
    assert "AUTHSURGE_TARGET_PER_IP_LIMIT" not in server_env(TargetOptions(), tmp_path, 8000)


def test_this_process_is_not_in_a_test_namespace_so_the_links_are_refused_here():
    from authsurge.target.options import in_test_namespace

    assert not in_test_namespace()
    assert not is_listenable("169.254.77.1")
