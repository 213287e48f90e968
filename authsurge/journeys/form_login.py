"""Form login with CSRF: GET the login page, fill the login form, POST it, judge the answer.

Works for Django, Rails, Laravel, Spring and anything else that renders an HTML form
with a password input: hidden inputs (the CSRF token) and cookies are carried over, the
username and password fields are guessed (or configured), and success is decided by the
scenario's `SuccessRule`.

Steps: login.form (the GET), login.submit (the POST).
"""

from __future__ import annotations

import re

from authsurge.journeys import forms
from authsurge.journeys.client import HttpClient, Response, StepFailed
from authsurge.journeys.state import JourneyState
from authsurge.journeys.urls import resolve_url
from authsurge.rundir import records as record
from authsurge.scenario import FormLoginSettings, FormSpec, SuccessRule
from authsurge.secret import Secret

REJECTED_REASON = "form re-shown: wrong credentials?"


class FormLogin:
    """The form_login step group."""

    group = "form_login"
    needs_account = True
    logout = False

    def __init__(self, settings: FormLoginSettings | None = None) -> None:
        self.settings = settings or FormLoginSettings()
        self.rule = CompiledRule(self.settings.success)

    def __call__(self, state: JourneyState) -> None:
        if state.account is None:
            raise StepFailed("login.form", record.UNEXPECTED_PAGE, "no account for this journey")
        http = state.http
        url = resolve_url(state.base_url, self.settings.login_url)
        page = http.request("login.form", "GET", url)
        if page.status != 200:
            raise http.fail_status(page)
        tree, charset = forms.parse(page.body, page.content_type)
        spec = self.settings.form
        form = forms.login_form(tree, page.url, charset, spec.selector)
        if form is None:
            raise http.fail(page, record.UNEXPECTED_PAGE, no_form_reason(page, spec))
        pairs = login_pairs(http, page, form, spec, state.account.username, state.account.password)
        http.ok(page)
        resp = submit(http, "login.submit", form, pairs, page.url)
        self.rule.judge(http, resp, spec.selector)
        http.ok(resp)


def no_form_reason(page: Response, spec: FormSpec) -> str:
    what = f"matching {spec.selector!r}" if spec.selector else "with a password input"
    return f"no login form {what} on {page.method} {page.path}"


def login_pairs(
    http: HttpClient,
    page: Response,
    form: forms.Form,
    spec: FormSpec,
    username: str,
    password: Secret,
) -> list[tuple[str, str | Secret]]:
    """The login form filled in; fails the page's step when it has no username/password field."""
    user_field, pw_field = form.login_fields(spec.username_field, spec.password_field)
    if not user_field or not pw_field:
        missing = "username" if not user_field else "password"
        raise http.fail(
            page,
            record.UNEXPECTED_PAGE,
            f"login form on {page.path} has no {missing} field (set form.{missing}_field)",
        )
    values: dict[str, str | Secret] = dict(spec.extra_fields)
    values[user_field] = username
    values[pw_field] = password
    return form.fill(values)


def submit(
    http: HttpClient,
    step: str,
    form: forms.Form,
    pairs: list[tuple[str, str | Secret]],
    page_url: str,
) -> Response:
    """Submit a filled form as a browser would (Origin and Referer of the page it came from)."""
    method, url, body, headers = form.request(pairs, page_url)
    return http.request(step, method, url, body=body, headers=headers, form=body is not None)


class CompiledRule:
    """A SuccessRule with its regex compiled once; every rule given must hold."""

    def __init__(self, rule: SuccessRule) -> None:
        self.rule = rule
        self.redirect = re.compile(rule.redirect_matches) if rule.redirect_matches else None

    def failures(self, http: HttpClient, resp: Response) -> list[str]:
        rule = self.rule
        out = []
        if rule.status and resp.status not in rule.status:
            out.append(f"status {resp.status}, expected {'/'.join(map(str, rule.status))}")
        if self.redirect is not None:
            location = resp.header("location") or ""
            if not self.redirect.search(location):
                where = location.split("?", 1)[0] or "nowhere"
                out.append(f"redirect to {where} does not match {self.redirect.pattern!r}")
        if rule.cookie_set and rule.cookie_set not in http.jar.names():
            out.append(f"cookie {rule.cookie_set} not set")
        if rule.text_present or rule.text_absent:
            text = forms.decode(resp.body, resp.content_type)[0]
            if rule.text_present and rule.text_present not in text:
                out.append(f"text {rule.text_present!r} absent")
            if rule.text_absent and rule.text_absent in text:
                out.append(f"text {rule.text_absent!r} present")
        return out

    def judge(self, http: HttpClient, resp: Response, selector: str | None = None) -> None:
        """Raise StepFailed (reported on `resp`) unless the response is a successful login."""
        failures = self.failures(http, resp)
        if not failures:
            return
        if resp.status >= 400:
            raise http.fail_status(resp)
        if resp.status == 200 and shows_login_form(resp, selector):
            raise http.fail(resp, record.REJECTED, REJECTED_REASON)
        raise http.fail(resp, record.UNEXPECTED_PAGE, f"{resp.describe()}: {'; '.join(failures)}")


def shows_login_form(resp: Response, selector: str | None = None) -> bool:
    tree, charset = forms.parse(resp.body, resp.content_type)
    return forms.login_form(tree, resp.url, charset, selector) is not None
