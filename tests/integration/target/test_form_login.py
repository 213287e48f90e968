"""The HTML side of the target: Django's form login with CSRF, the session API, logout."""

from __future__ import annotations

import re

import pytest
import requests

TIMEOUT = 10


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def form_login(base_url: str, username: str, password: str, next_url: str | None = None
               ) -> tuple[requests.Session, requests.Response]:
    s = requests.Session()
    page = s.get(f"{base_url}/accounts/login/", timeout=TIMEOUT)
    assert page.status_code == 200
    data = {"csrfmiddlewaretoken": csrf_from(page.text), "username": username, "password": password}
    if next_url:
        data["next"] = next_url
    return s, s.post(f"{base_url}/accounts/login/", data=data, allow_redirects=False, timeout=TIMEOUT)


def test_healthz_answers_ok(target):
    r = requests.get(f"{target.base_url}/healthz", timeout=TIMEOUT)
    assert (r.status_code, r.text) == (200, "ok")


def test_index_page_answers(target):
    assert requests.get(f"{target.base_url}/", timeout=TIMEOUT).status_code == 200


def test_login_page_has_a_csrf_protected_form(target):
    r = requests.get(f"{target.base_url}/accounts/login/", timeout=TIMEOUT)
    assert r.status_code == 200
    assert 'type="password"' in r.text and "csrftoken" in r.cookies
    csrf_from(r.text)


def test_form_login_redirects_to_profile_and_the_session_reaches_the_api(target, target_env):
    s, r = form_login(target.base_url, "user0001", target_env.password)
    assert r.status_code == 302 and r.headers["Location"] == "/accounts/profile/"
    assert "sessionid" in s.cookies
    profile = s.get(f"{target.base_url}/accounts/profile/", timeout=TIMEOUT)
    assert profile.status_code == 200 and "user0001" in profile.text
    me = s.get(f"{target.base_url}/api/me", timeout=TIMEOUT)
    assert me.status_code == 200 and me.json() == {"user": "user0001", "auth": "session"}


def test_form_login_follows_next(target, target_env):
    _, r = form_login(target.base_url, "user0002", target_env.password, next_url="/api/me")
    assert r.status_code == 302 and r.headers["Location"] == "/api/me"


@pytest.mark.parametrize("username", ["user0003", "nobody"])
def test_bad_credentials_show_the_form_again_with_200(target, username):
    s, r = form_login(target.base_url, username, "not-the-password")
    assert r.status_code == 200
    assert 'type="password"' in r.text and "correct username and password" in r.text
    assert "sessionid" not in s.cookies


def test_login_post_without_csrf_is_403(target, target_env):
    r = requests.post(f"{target.base_url}/accounts/login/", allow_redirects=False, timeout=TIMEOUT,
                      data={"username": "user0001", "password": target_env.password})
    assert r.status_code == 403


def test_logout_needs_csrf_and_ends_the_session(target, target_env):
    s, _ = form_login(target.base_url, "user0004", target_env.password)
    refused = s.post(f"{target.base_url}/accounts/logout/", allow_redirects=False, timeout=TIMEOUT)
    assert refused.status_code == 403
    assert s.get(f"{target.base_url}/api/me", timeout=TIMEOUT).status_code == 200
    # Django rotates the CSRF secret at login; the page's form carries the current one
    profile = s.get(f"{target.base_url}/accounts/profile/", timeout=TIMEOUT)
    r = s.post(f"{target.base_url}/accounts/logout/", data={"csrfmiddlewaretoken": csrf_from(profile.text)},
               allow_redirects=False, timeout=TIMEOUT)
    assert r.status_code == 200 and "Signed out" in r.text
    assert s.get(f"{target.base_url}/api/me", timeout=TIMEOUT).status_code == 401


def test_profile_redirects_anonymous_people_to_login(target):
    r = requests.get(f"{target.base_url}/accounts/profile/", allow_redirects=False, timeout=TIMEOUT)
    assert r.status_code == 302 and r.headers["Location"].startswith("/accounts/login/?next=")


def test_api_without_credentials_is_401_json(target):
    r = requests.get(f"{target.base_url}/api/me", timeout=TIMEOUT)
    assert r.status_code == 401 and r.json() == {"error": "unauthenticated"}
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_api_with_an_unknown_bearer_token_is_401(target):
    r = requests.get(f"{target.base_url}/api/me", headers={"Authorization": "Bearer not-a-token"},
                     timeout=TIMEOUT)
    assert r.status_code == 401 and r.json() == {"error": "invalid_token"}
