"""OIDC authorization code + PKCE against any provider, driven by its discovery document.

The browser part is done by hand, as a browser would: follow 301/302/303 (as GET) and
307/308 (same method and body) through the provider's own pages, fill its HTML login
form (the same generic handling as form login), submit a consent form when one appears,
and stop at the redirect to `redirect_uri` (which is never requested). Then exchange the
code at the token endpoint, exactly once: a code is single-use, and a retried exchange
would turn one slow answer into a spurious invalid_grant.

Steps: oidc.discovery (once per Journey), oidc.authorize (every GET of the redirect chain
that is not the login page), oidc.login_form (the GET that shows the login form),
oidc.login_submit, oidc.consent, oidc.token.
"""

from __future__ import annotations  # noqa: I001 - gevent/locust sort first: they patch before ssl

import gevent.lock

import base64
import hashlib
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from authsurge.rundir import records as record
from authsurge.journeys import forms
from authsurge.journeys.form_login import REJECTED_REASON, login_pairs, no_form_reason
from authsurge.journeys.client import HttpClient, Response, StepFailed
from authsurge.journeys.reporting import status_outcome
from authsurge.journeys.state import JourneyState
from authsurge.journeys.tokens import (
    check_bearer,
    expires_at,
    jwt_claims,
    oauth_error,
    token_request,
    with_hints,
)
from authsurge.journeys.urls import add_query, resolve_url, without_query
from authsurge.scenario import OidcSettings
from authsurge.secret import Secret

_EXTRA_PAGES = 3  # beyond max_redirects: the login page, the login submit, the consent page


class Provider:
    """An OIDC provider as one journey sees it: settings, client secret, cached discovery.

    Built once per Journey and shared by its concurrent runs; the discovery document is
    fetched by the first run that needs it (reported as oidc.discovery) and kept.
    """

    def __init__(self, settings: OidcSettings, secret: Secret | None = None) -> None:
        self.settings = settings
        self.client = settings.client
        self.secret = secret
        self.redirect_base = without_query(settings.redirect_uri)
        self.post_logout_base = (
            without_query(settings.post_logout_redirect_uri)
            if settings.post_logout_redirect_uri
            else None
        )
        self._doc: dict[str, Any] | None = None
        self._lock = gevent.lock.Semaphore()

    def discovery_url(self, base_url: str) -> str:
        s = self.settings
        return resolve_url(
            base_url, s.discovery_url or s.issuer.rstrip("/") + "/.well-known/openid-configuration"
        )

    def document(self, state: JourneyState) -> dict[str, Any]:
        if self._doc is None:
            with self._lock:  # one fetch, whoever comes first; the others wait for it
                if self._doc is None:
                    self._doc = self._fetch(state.http, state.base_url)
        return self._doc

    def endpoint(self, state: JourneyState, key: str, step: str) -> str:
        url = self.document(state).get(key)
        if not isinstance(url, str) or not url:
            raise StepFailed(
                step,
                record.INVALID_RESPONSE,
                f"the discovery document has no {key} (set flows.oidc.endpoints.{key})",
            )
        return url

    @property
    def issuer(self) -> str | None:
        """The issuer the discovery document names (None until it was fetched)."""
        return self._doc.get("issuer") if self._doc else None

    def forget(self) -> None:
        """Drop the cached discovery document (the next run fetches it again)."""
        self._doc = None

    def _fetch(self, http: HttpClient, base_url: str) -> dict[str, Any]:
        resp = http.request(
            "oidc.discovery",
            "GET",
            self.discovery_url(base_url),
            headers={"Accept": "application/json"},
        )
        if resp.status != 200:
            raise http.fail_status(resp)
        try:
            doc = resp.json()
        except (ValueError, UnicodeDecodeError):
            doc = None
        if not isinstance(doc, dict):
            raise http.fail(
                resp, record.INVALID_RESPONSE, f"discovery document at {resp.path} is not JSON"
            )
        doc = dict(doc)
        for key, url in self.settings.endpoints.items():
            doc[key] = resolve_url(base_url, url)
        for key in ("authorization_endpoint", "token_endpoint"):
            if not isinstance(doc.get(key), str):
                raise http.fail(resp, record.INVALID_RESPONSE, f"discovery document without {key}")
        http.ok(resp)
        return doc

    def is_redirect_uri(self, url: str) -> bool:
        return without_query(url) == self.redirect_base


@dataclass(frozen=True)
class AuthRequest:
    """One authorization request's secrets-of-the-moment: state, nonce, PKCE verifier."""

    state: str
    nonce: str
    verifier: str

    @classmethod
    def new(cls) -> AuthRequest:
        return cls(_random(16), _random(16), _random(32))

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def url(self, endpoint: str, settings: OidcSettings) -> str:
        return add_query(
            endpoint,
            {
                "response_type": "code",
                "client_id": settings.client.client_id,
                "redirect_uri": settings.redirect_uri,
                "scope": settings.scope,
                "state": self.state,
                "nonce": self.nonce,
                "code_challenge": self.challenge,
                "code_challenge_method": "S256",
            },
        )


class OidcLogin:
    """The oidc_login step group: authorize (login, consent) and exchange the code."""

    group = "oidc_login"
    needs_account = True
    logout = False

    def __init__(self, provider: Provider) -> None:
        self.provider = provider

    def __call__(self, state: JourneyState) -> None:
        request, code = self.authorize(state)
        tokens = exchange_code(state, self.provider, code, request.verifier, request.nonce)
        state.access_token = tokens["access_token"]
        state.token_expires_at = expires_at(tokens)
        state.refresh_token = tokens.get("refresh_token") or None
        state.id_token = tokens.get("id_token") or state.id_token

    def authorize(self, state: JourneyState) -> tuple[AuthRequest, str]:
        """Run the browser part up to the code (for tests and custom flows)."""
        if state.account is None:
            raise StepFailed(
                "oidc.authorize", record.UNEXPECTED_PAGE, "no account for this journey"
            )
        endpoint = self.provider.endpoint(state, "authorization_endpoint", "oidc.authorize")
        request = AuthRequest.new()
        code = follow_authorize(
            state, self.provider, request.url(endpoint, self.provider.settings), request.state
        )
        return request, code


def follow_authorize(state: JourneyState, provider: Provider, url: str, expected_state: str) -> str:
    """Follow the authorize redirect chain through login and consent pages; the code."""
    http = state.http
    cfg = provider.settings
    account = state.account
    assert account is not None
    step, method, body, headers = "oidc.authorize", "GET", None, None
    logged_in = consented = False
    for _ in range(cfg.max_redirects + _EXTRA_PAGES):
        resp = http.request(step, method, url, body=body, headers=headers, form=body is not None)
        if resp.is_redirect:
            location = resp.location
            if location is None:
                raise http.fail(
                    resp, record.INVALID_RESPONSE, f"{resp.describe()} without a Location"
                )
            if provider.is_redirect_uri(location):
                return _code_from(http, resp, location, expected_state, provider)
            http.ok(resp)
            if resp.status not in (307, 308):  # 301/302/303: browsers follow with a GET
                method, body = "GET", None
            step, url, headers = "oidc.authorize", location, None
            continue
        if resp.status != 200:
            raise http.fail(
                resp, status_outcome(resp.status), with_hints(resp.describe(), oauth_error(resp))
            )
        tree, charset = forms.parse(resp.body, resp.content_type)
        login = forms.login_form(tree, resp.url, charset, cfg.login_form.selector)
        if login is not None:
            if logged_in:
                # The provider showed its login form again: the password was not accepted.
                raise http.fail(resp, record.REJECTED, REJECTED_REASON, step="oidc.login_submit")
            if resp.method == "GET":
                resp.step = "oidc.login_form"
            pairs = login_pairs(
                http, resp, login, cfg.login_form, account.username, account.password
            )
            http.ok(resp)
            method, url, body, headers = login.request(pairs, resp.url)
            step, logged_in = "oidc.login_submit", True
            continue
        form = forms.find_form(
            tree,
            resp.url,
            charset,
            selector=cfg.consent_form.selector,
            field_names=tuple(cfg.consent_fields),
        )
        if form is None:
            if not logged_in:
                raise http.fail(resp, record.UNEXPECTED_PAGE, no_form_reason(resp, cfg.login_form))
            raise http.fail(
                resp,
                record.UNEXPECTED_PAGE,
                f"page without a form on {resp.method} {resp.path} (expected consent or a "
                "redirect to redirect_uri)",
            )
        if cfg.consent == "never":
            raise http.fail(
                resp,
                record.UNEXPECTED_PAGE,
                f"consent page on {resp.path}, but flows.oidc.consent is never",
            )
        if consented:
            raise http.fail(
                resp, record.UNEXPECTED_PAGE, f"consent page shown again on {resp.path}"
            )
        values = {**cfg.consent_form.extra_fields, **cfg.consent_fields}
        http.ok(resp)
        method, url, body, headers = form.request(form.fill(values), resp.url)
        step, consented = "oidc.consent", True
    raise StepFailed(
        step,
        record.UNEXPECTED_PAGE,
        f"no redirect to redirect_uri within {cfg.max_redirects} redirects",
    )


def _code_from(
    http: HttpClient, resp: Response, location: str, expected_state: str, provider: Provider
) -> str:
    query = location.split("#", 1)[0].partition("?")[2] or location.partition("#")[2]
    params = dict(parse_qsl(query))
    if "error" in params:
        error = params["error"] if params["error"].replace("_", "").isalnum() else "error"
        raise http.fail(resp, record.REJECTED, f"authorization error: {error}")
    code = params.get("code")
    if not code:
        raise http.fail(resp, record.INVALID_RESPONSE, "redirect to redirect_uri without a code")
    if params.get("state") != expected_state:
        raise http.fail(
            resp, record.INVALID_RESPONSE, "state in the redirect does not match the request"
        )
    issuer = provider.issuer
    if "iss" in params and issuer and params["iss"] != issuer:  # RFC 9207 mix-up defence
        raise http.fail(
            resp, record.INVALID_RESPONSE, "iss in the redirect is not the provider's issuer"
        )
    http.ok(resp)
    return code


def exchange_code(
    state: JourneyState, provider: Provider, code: str, verifier: str, nonce: str | None = None
) -> dict[str, Any]:
    """oidc.token: exchange a code (never retried) and check the answer cheaply."""
    cfg = provider.settings
    http = state.http
    url = provider.endpoint(state, "token_endpoint", "oidc.token")
    params = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": cfg.redirect_uri,
        "code_verifier": verifier,
    }
    resp, data = token_request(http, "oidc.token", url, params, provider.client, provider.secret)
    check_bearer(http, resp, data)
    id_token = data.get("id_token")
    if cfg.expect_id_token and not (isinstance(id_token, str) and id_token):
        raise http.fail(resp, record.INVALID_RESPONSE, "no id_token in the token response")
    if isinstance(id_token, str) and id_token:
        claims = jwt_claims(id_token)
        if claims is None:
            raise http.fail(resp, record.INVALID_RESPONSE, "id_token is not a JWT")
        if nonce is not None and claims.get("nonce") != nonce:
            raise http.fail(
                resp, record.INVALID_RESPONSE, "id_token nonce does not match the request"
            )
        aud = claims.get("aud")
        if provider.client.client_id not in (aud if isinstance(aud, list) else [aud]):
            raise http.fail(resp, record.INVALID_RESPONSE, "id_token audience is not this client")
    if cfg.expect_refresh_token and not data.get("refresh_token"):
        raise http.fail(
            resp,
            record.INVALID_RESPONSE,
            "no refresh_token in the token response (flows.oidc.expect_refresh_token)",
        )
    http.ok(resp)
    return data


def _random(n: int) -> str:
    return base64.urlsafe_b64encode(os.urandom(n)).rstrip(b"=").decode("ascii")
