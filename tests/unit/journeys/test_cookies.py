"""The journeys' cookie jar on its own (with the HTTP client against a scripted server:
tests/integration/journeys/test_client.py)."""

from __future__ import annotations

from authsurge.journeys.cookies import CookieJar


def test_domain_cookies_match_subdomains_only_for_names():
    jar = CookieJar()
    jar.set_cookie("d=1; Domain=.example.test", "http", "login.example.test", "/")
    assert jar.header("http", "api.example.test", "/") == "d=1"
    assert jar.header("http", "example.test.evil", "/") is None
    jar.set_cookie("ip=1; Domain=0.0.1", "http", "127.0.0.1", "/")  # no domain cookies for IPs
    assert "ip" not in jar.names()
