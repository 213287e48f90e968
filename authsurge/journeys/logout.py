"""Logout: the site's own form logout (POST with CSRF, or GET) and OIDC RP-initiated logout.

Steps: logout (the logout request), logout.form (the page the CSRF token is read from,
only with `csrf_page`), oidc.logout (every request of the RP-initiated logout, including
a confirmation form the provider may show).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from authsurge.journeys import forms
from authsurge.journeys.client import StepFailed
from authsurge.journeys.oidc import AuthRequest, Provider
from authsurge.journeys.state import JourneyState
from authsurge.journeys.urls import add_query, form_encode, resolve_url, without_query
from authsurge.rundir import records as record
from authsurge.scenario import FormLogoutSettings


class FormLogout:
    """The form_logout step group (FormLogoutSettings)."""

    group = "form_logout"
    needs_account = False
    logout = True

    def __init__(self, settings: FormLogoutSettings | None = None) -> None:
        self.settings = settings or FormLogoutSettings()

    def __call__(self, state: JourneyState) -> None:
        s = self.settings
        http = state.http
        url = resolve_url(state.base_url, s.url)
        if s.method == "GET":
            http.expect(http.request("logout", "GET", url), s.expect_status)
            return
        token = None
        referer = url
        if s.csrf_page:
            page = http.request("logout.form", "GET", resolve_url(state.base_url, s.csrf_page))
            if page.status != 200:
                raise http.fail_status(page)
            tree, charset = forms.parse(page.body, page.content_type)
            form = forms.find_form(tree, page.url, charset, field_names=(s.csrf_field,))
            token = dict(form.fields()).get(s.csrf_field) if form is not None else None
            if not token:
                raise http.fail(
                    page, record.UNEXPECTED_PAGE, f"no {s.csrf_field} field on {page.path}"
                )
            http.ok(page)
            referer = page.url
        elif s.csrf_cookie:
            token = http.jar.get(s.csrf_cookie)  # none held: send without, the server decides
        headers = {"Accept": "text/html,*/*", "Referer": referer, "Origin": forms.origin(referer)}
        if s.csrf_header and token:
            headers[s.csrf_header] = token
        body = form_encode({s.csrf_field: token} if token else {}).encode("ascii")
        resp = http.request("logout", "POST", url, body=body, headers=headers, form=True)
        if resp.status not in s.expect_status:
            missing = ""
            if not token:
                missing = (
                    f"no CSRF token: cookie {s.csrf_cookie} not held"
                    if s.csrf_cookie
                    else "no CSRF token: set csrf_cookie or csrf_page"
                )
            raise http.fail_status(resp, missing)
        http.ok(resp)


class OidcLogout:
    """The oidc_logout step group: RP-initiated logout at the end_session_endpoint."""

    group = "oidc_logout"
    needs_account = False
    logout = True

    def __init__(self, provider: Provider) -> None:
        self.provider = provider

    def __call__(self, state: JourneyState) -> None:
        p = self.provider
        cfg = p.settings
        http = state.http
        endpoint = p.endpoint(state, "end_session_endpoint", "oidc.logout")
        params = {"client_id": cfg.client.client_id}
        if state.id_token:
            params["id_token_hint"] = state.id_token
        expected_state = None
        if cfg.post_logout_redirect_uri:
            expected_state = AuthRequest.new().state
            params["post_logout_redirect_uri"] = cfg.post_logout_redirect_uri
            params["state"] = expected_state
        url = add_query(endpoint, params)
        method, body, headers = "GET", None, None
        confirmed = False
        for _ in range(cfg.max_redirects + 2):
            resp = http.request(
                "oidc.logout", method, url, body=body, headers=headers, form=body is not None
            )
            if resp.is_redirect:
                location = resp.location
                if location is None:
                    raise http.fail(
                        resp, record.INVALID_RESPONSE, f"{resp.describe()} without a Location"
                    )
                if p.post_logout_base and without_query(location) == p.post_logout_base:
                    back = dict(_query(location))
                    if "state" in back and back["state"] != expected_state:
                        raise http.fail(
                            resp,
                            record.INVALID_RESPONSE,
                            "state in the post-logout redirect does not match the request",
                        )
                    http.ok(resp)
                    return
                http.ok(resp)
                if resp.status not in (307, 308):
                    method, body = "GET", None
                url, headers = location, None
                continue
            if resp.status != 200:
                raise http.fail_status(resp)
            tree, charset = forms.parse(resp.body, resp.content_type)
            form = forms.find_form(tree, resp.url, charset, field_names=tuple(cfg.logout_fields))
            if form is None or form.has_password:
                http.ok(resp)  # a "signed out" page (or the login page again): done
                return
            if confirmed:
                raise http.fail(
                    resp, record.UNEXPECTED_PAGE, f"logout confirmation shown again on {resp.path}"
                )
            http.ok(resp)
            method, url, body, headers = form.request(form.fill(cfg.logout_fields), resp.url)
            confirmed = True
        raise StepFailed(
            "oidc.logout",
            record.UNEXPECTED_PAGE,
            f"logout did not finish within {cfg.max_redirects} redirects",
        )


def _query(url: str) -> list[tuple[str, str]]:
    return parse_qsl(url.split("#", 1)[0].partition("?")[2])
