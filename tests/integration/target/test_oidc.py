"""The OIDC side, driven by hand the way an app does it: discovery, authorization code +
PKCE through the login form, tokens, userinfo, refresh rotation, introspection,
revocation, client credentials and RP-initiated logout. Redirects to the (never running)
client at http://127.0.0.1/callback are read from Location, never followed."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from jwcrypto import jwk, jwt

TIMEOUT = 10
REDIRECT_URI = "http://127.0.0.1/callback"
POST_LOGOUT_URI = "http://127.0.0.1/logged-out"


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def hidden_fields(page: str) -> dict[str, str]:
    fields = {}
    for tag in re.findall(r"<input[^>]*>", page):
        if 'type="hidden"' in tag:
            name = re.search(r'name="([^"]*)"', tag)
            value = re.search(r'value="([^"]*)"', tag)
            if name:
                fields[name.group(1)] = html.unescape(value.group(1)) if value else ""
    return fields


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@dataclass
class CodeLogin:
    session: requests.Session
    code: str
    verifier: str
    nonce: str
    consent_shown: bool


def authorize_params(client_id: str, challenge: str, nonce: str, scope: str = "openid profile") -> dict[str, str]:
    return {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT_URI, "scope": scope,
            "state": "st-" + nonce, "nonce": nonce, "code_challenge": challenge, "code_challenge_method": "S256"}


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def code_login(base_url: str, username: str, password: str, client_id: str = "surge-public",
               scope: str = "openid profile") -> CodeLogin:
    """Authorize -> login form -> back to authorize -> (consent) -> code at the redirect URI."""
    s = requests.Session()
    verifier, challenge = pkce_pair()
    nonce = secrets.token_urlsafe(8)
    r = s.get(f"{base_url}/o/authorize/", params=authorize_params(client_id, challenge, nonce, scope),
              allow_redirects=False, timeout=TIMEOUT)
    assert r.status_code == 302 and r.headers["Location"].startswith("/accounts/login/?next=")
    login_url = urljoin(base_url, r.headers["Location"])
    form = s.get(login_url, timeout=TIMEOUT)
    fields = hidden_fields(form.text) | {"username": username, "password": password}
    r = s.post(login_url, data=fields, allow_redirects=False, timeout=TIMEOUT)
    assert r.status_code == 302 and r.headers["Location"].startswith("/o/authorize/")
    r = s.get(urljoin(base_url, r.headers["Location"]), allow_redirects=False, timeout=TIMEOUT)
    consent_shown = r.status_code == 200
    if consent_shown:  # DOT's consent page
        assert 'name="allow"' in r.text
        r = s.post(r.url, data=hidden_fields(r.text) | {"allow": "Authorize"}, allow_redirects=False,
                   timeout=TIMEOUT)
    assert r.status_code == 302 and r.headers["Location"].startswith(REDIRECT_URI), r.text[:300]
    params = query(r.headers["Location"])
    assert params["state"] == "st-" + nonce
    return CodeLogin(s, params["code"], verifier, nonce, consent_shown)


def exchange(base_url: str, login: CodeLogin, client_id: str = "surge-public",
             auth: tuple[str, str] | None = None) -> requests.Response:
    data = {"grant_type": "authorization_code", "code": login.code, "redirect_uri": REDIRECT_URI,
            "code_verifier": login.verifier}
    if auth is None:
        data["client_id"] = client_id
    return requests.post(f"{base_url}/o/token/", data=data, auth=auth, timeout=TIMEOUT)


@pytest.fixture(scope="module")
def discovery(target):
    r = requests.get(f"{target.base_url}/o/.well-known/openid-configuration", timeout=TIMEOUT)
    assert r.status_code == 200
    return r.json()


def test_discovery_names_the_loopback_issuer_and_its_endpoints(target, discovery):
    assert discovery["issuer"] == f"http://127.0.0.1:{target.port}/o" == target.issuer
    for key, path in [("authorization_endpoint", "/o/authorize/"), ("token_endpoint", "/o/token/"),
                      ("userinfo_endpoint", "/o/userinfo/"), ("jwks_uri", "/o/.well-known/jwks.json"),
                      ("end_session_endpoint", "/o/logout/"), ("revocation_endpoint", "/o/revoke_token/"),
                      ("introspection_endpoint", "/o/introspect/")]:
        assert discovery[key] == target.base_url + path
    assert "RS256" in discovery["id_token_signing_alg_values_supported"]
    assert discovery["code_challenge_methods_supported"] == ["S256"]


def test_auth_code_with_pkce_gives_tokens_a_signed_id_token_and_userinfo(target, target_env, discovery):
    login = code_login(target.base_url, "user0010", target_env.password)
    assert not login.consent_shown  # surge-public skips authorization
    r = exchange(target.base_url, login)
    assert r.status_code == 200, r.text
    tokens = r.json()
    assert tokens["token_type"] == "Bearer" and {"access_token", "refresh_token", "id_token"} <= tokens.keys()

    keys = jwk.JWKSet.from_json(requests.get(discovery["jwks_uri"], timeout=TIMEOUT).text)
    claims = json.loads(jwt.JWT(jwt=tokens["id_token"], key=keys, expected_type="JWS").claims)
    assert claims["iss"] == target.issuer and claims["aud"] == "surge-public"
    assert claims["nonce"] == login.nonce and claims["preferred_username"] == "user0010"

    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    info = requests.get(discovery["userinfo_endpoint"], headers=bearer, timeout=TIMEOUT)
    assert info.status_code == 200 and info.json()["preferred_username"] == "user0010"
    assert info.json()["sub"] == claims["sub"]
    me = requests.get(f"{target.base_url}/api/me", headers=bearer, timeout=TIMEOUT)
    assert me.json() == {"user": "user0010", "auth": "bearer", "client": "surge-public"}


def test_replayed_code_is_rejected_with_invalid_grant(target, target_env):
    login = code_login(target.base_url, "user0011", target_env.password)
    assert exchange(target.base_url, login).status_code == 200
    again = exchange(target.base_url, login)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_code_with_a_wrong_verifier_is_rejected(target, target_env):
    login = code_login(target.base_url, "user0012", target_env.password)
    login.verifier = pkce_pair()[0]
    r = exchange(target.base_url, login)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("pkce", ["missing", "plain"])
def test_authorize_without_s256_pkce_is_refused(target, target_env, pkce):
    s = requests.Session()
    params = authorize_params("surge-public", "x" * 43, "n1")
    if pkce == "missing":
        del params["code_challenge"], params["code_challenge_method"]
    else:
        params["code_challenge_method"] = "plain"
    r = s.get(f"{target.base_url}/o/authorize/", params=params, allow_redirects=False, timeout=TIMEOUT)
    # anonymous: login first; the PKCE check comes once the user is known
    login_url = urljoin(target.base_url, r.headers["Location"])
    fields = hidden_fields(s.get(login_url, timeout=TIMEOUT).text)
    r = s.post(login_url, data=fields | {"username": "user0013", "password": target_env.password},
               allow_redirects=False, timeout=TIMEOUT)
    r = s.get(urljoin(target.base_url, r.headers["Location"]), allow_redirects=False, timeout=TIMEOUT)
    assert r.status_code == 302 and query(r.headers["Location"])["error"] == "invalid_request"


def test_refresh_rotates_and_the_old_refresh_token_is_then_rejected(target, target_env):
    tokens = exchange(target.base_url, code_login(target.base_url, "user0014", target_env.password)).json()
    data = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": "surge-public"}
    r = requests.post(f"{target.base_url}/o/token/", data=data, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    fresh = r.json()
    assert fresh["refresh_token"] != tokens["refresh_token"]
    assert fresh["access_token"] != tokens["access_token"]
    old = requests.post(f"{target.base_url}/o/token/", data=data, timeout=TIMEOUT)
    assert old.status_code == 400 and old.json()["error"] == "invalid_grant"
    me = requests.get(f"{target.base_url}/api/me", timeout=TIMEOUT,
                      headers={"Authorization": f"Bearer {fresh['access_token']}"})
    assert me.status_code == 200 and me.json()["user"] == "user0014"


@pytest.mark.parametrize("client_id", ["surge-confidential", "surge-service"])
def test_introspection_with_confidential_client_basic_auth(target, target_env, client_id):
    tokens = exchange(target.base_url, code_login(target.base_url, "user0015", target_env.password)).json()
    r = requests.post(f"{target.base_url}/o/introspect/", data={"token": tokens["access_token"]},
                      auth=(client_id, target_env.client_secret), timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["active"] is True and body["username"] == "user0015" and body["client_id"] == "surge-public"
    unknown = requests.post(f"{target.base_url}/o/introspect/", data={"token": "nope"},
                            auth=(client_id, target_env.client_secret), timeout=TIMEOUT)
    assert unknown.json() == {"active": False}


def test_introspection_with_a_wrong_secret_is_refused(target):
    r = requests.post(f"{target.base_url}/o/introspect/", data={"token": "x"},
                      auth=("surge-service", "wrong-secret"), timeout=TIMEOUT)
    assert r.status_code in (401, 403)


def test_revoked_access_token_is_inactive_and_refused_by_the_api(target, target_env):
    tokens = exchange(target.base_url, code_login(target.base_url, "user0016", target_env.password)).json()
    r = requests.post(f"{target.base_url}/o/revoke_token/", timeout=TIMEOUT,
                      data={"token": tokens["access_token"], "client_id": "surge-public"})
    assert r.status_code == 200
    intro = requests.post(f"{target.base_url}/o/introspect/", data={"token": tokens["access_token"]},
                          auth=("surge-service", target_env.client_secret), timeout=TIMEOUT)
    assert intro.json() == {"active": False}
    me = requests.get(f"{target.base_url}/api/me", timeout=TIMEOUT,
                      headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 401


@pytest.mark.parametrize("how", ["client_secret_basic", "client_secret_post"])
def test_client_credentials_grant_for_the_service_client(target, target_env, how):
    data = {"grant_type": "client_credentials", "scope": "read"}
    auth = None
    if how == "client_secret_basic":
        auth = ("surge-service", target_env.client_secret)
    else:
        data |= {"client_id": "surge-service", "client_secret": target_env.client_secret}
    r = requests.post(f"{target.base_url}/o/token/", data=data, auth=auth, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    tokens = r.json()
    assert "refresh_token" not in tokens
    me = requests.get(f"{target.base_url}/api/me", timeout=TIMEOUT,
                      headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.json() == {"user": None, "auth": "bearer", "client": "surge-service"}


def test_client_credentials_with_a_wrong_secret_is_invalid_client(target):
    r = requests.post(f"{target.base_url}/o/token/", data={"grant_type": "client_credentials"},
                      auth=("surge-service", "wrong-secret"), timeout=TIMEOUT)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


def test_confidential_client_auth_code_uses_its_secret(target, target_env):
    login = code_login(target.base_url, "user0017", target_env.password, client_id="surge-confidential")
    r = exchange(target.base_url, login, auth=("surge-confidential", target_env.client_secret))
    assert r.status_code == 200 and "id_token" in r.json()


def test_consent_client_shows_dots_consent_page(target, target_env):
    login = code_login(target.base_url, "user0018", target_env.password, client_id="surge-consent")
    assert login.consent_shown
    assert exchange(target.base_url, login, client_id="surge-consent").status_code == 200


def test_rp_initiated_logout_with_id_token_hint_ends_session_and_tokens(target, target_env):
    login = code_login(target.base_url, "user0019", target_env.password)
    tokens = exchange(target.base_url, login).json()
    assert login.session.get(f"{target.base_url}/api/me", timeout=TIMEOUT).status_code == 200
    r = login.session.get(f"{target.base_url}/o/logout/", allow_redirects=False, timeout=TIMEOUT,
                          params={"id_token_hint": tokens["id_token"], "client_id": "surge-public",
                                  "post_logout_redirect_uri": POST_LOGOUT_URI, "state": "bye"})
    assert r.status_code == 302 and r.headers["Location"] == f"{POST_LOGOUT_URI}?state=bye"
    assert login.session.get(f"{target.base_url}/api/me", timeout=TIMEOUT).status_code == 401
    me = requests.get(f"{target.base_url}/api/me", timeout=TIMEOUT,
                      headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 401  # DOT deletes the user's tokens at logout


def test_rp_initiated_logout_without_hint_asks_for_confirmation(target, target_env):
    login = code_login(target.base_url, "user0020", target_env.password)
    r = login.session.get(f"{target.base_url}/o/logout/", params={"client_id": "surge-public"},
                          allow_redirects=False, timeout=TIMEOUT)
    assert r.status_code == 200 and 'name="allow"' in r.text
    r = login.session.post(r.url, data=hidden_fields(r.text) | {"allow": "Logout"},
                           allow_redirects=False, timeout=TIMEOUT)
    assert r.status_code == 302
    assert login.session.get(f"{target.base_url}/api/me", timeout=TIMEOUT).status_code == 401
