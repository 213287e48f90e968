"""Sign-in from a CLI: the OAuth device authorization grant (RFC 8628).

The CLI asks for a device code (device.authorize) and shows the person a user code and a
URL; the person, after a human delay, approves in a browser of their own (device.verify:
the provider's sign-in page, the user code, the approval), while the CLI polls the token
endpoint every `interval` seconds (device.poll), 5 s slower after each `slow_down`, until
the final poll brings the token (device.token). A surge of CLI sign-ins is a surge of
polls; the poll rows carry the answer (`authorization_pending`, `slow_down`) in their
reason, so the analysis can count them.

Device codes and user codes are secrets: neither is ever in a reason, a record or a log
(a verification page whose path carries the user code is shown with it redacted).

Steps: device.authorize, device.poll, device.verify, device.token.
"""

from __future__ import annotations

import gevent

import random
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from authsurge.journeys import forms
from authsurge.journeys.client import HttpClient, StepFailed
from authsurge.journeys.form_login import login_pairs
from authsurge.journeys.reporting import status_outcome
from authsurge.journeys.response import Response
from authsurge.journeys.state import JourneyState
from authsurge.journeys.tokens import (
    EndpointSource,
    client_auth,
    json_answer,
    keep_tokens,
    oauth_error,
)
from authsurge.journeys.urls import resolve_url
from authsurge.rundir import records as record
from authsurge.scenario import ClientConfig, DeviceSettings
from authsurge.secret import Secret

GRANT = "urn:ietf:params:oauth:grant-type:device_code"
PENDING, SLOW_DOWN = "authorization_pending", "slow_down"
SLOW_DOWN_S = 5.0  # RFC 8628 3.5: every slow_down adds 5 s to the interval, for good


@dataclass(frozen=True)
class Grant:
    """The device authorization answer; the codes (and the link carrying the user code)
    stay Secrets."""

    device_code: Secret
    user_code: Secret
    verification_uri: str
    verification_uri_complete: Secret | None
    interval_s: float | None
    expires_in_s: float | None

    @classmethod
    def of(cls, data: dict[str, Any]) -> Grant:
        complete = data.get("verification_uri_complete")
        return cls(
            Secret(data["device_code"], "a device code"),
            Secret(data["user_code"], "a user code"),
            data["verification_uri"],
            Secret(complete, "a verification link") if isinstance(complete, str) else None,
            number(data.get("interval")),
            number(data.get("expires_in")),
        )


class DeviceLogin:
    """The device_login step group."""

    group = "device_login"
    needs_account = True
    logout = False

    def __init__(
        self,
        settings: DeviceSettings,
        endpoints: EndpointSource | None,
        client: ClientConfig,
        secret: Secret | None,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.endpoints = endpoints
        self.client = client
        self.secret = secret
        self.rng = rng or random.Random()

    def __call__(self, state: JourneyState) -> None:
        if state.account is None:
            raise StepFailed("device.authorize", record.UNEXPECTED_PAGE, "no account")
        grant = self.authorize(state)
        browser = browser_of(state.http)
        delay = self.rng.uniform(self.settings.human_delay.min_s, self.settings.human_delay.max_s)
        person = Person()
        greenlet = gevent.spawn(self.approve_later, state, browser, grant, delay, person)
        try:
            self.poll(state, grant, person)
        finally:
            if person.started:  # let a page in flight finish and be recorded
                greenlet.join(timeout=state.http.settings.timeout_s)
            greenlet.kill()
            browser.close()

    # -- the CLI ---------------------------------------------------------------------------
    def endpoint(self, state: JourneyState, configured: str | None, key: str, step: str) -> str:
        if configured:
            return resolve_url(state.base_url, configured)
        if self.endpoints is None:
            raise StepFailed(step, record.UNEXPECTED_PAGE, f"no {key}: configure flows.device")
        return self.endpoints.endpoint(state, key, step)

    def authorize(self, state: JourneyState) -> Grant:
        s, http = self.settings, state.http
        url = self.endpoint(
            state, s.authorization_endpoint, "device_authorization_endpoint", "device.authorize"
        )
        params: dict[str, str | Secret] = {"scope": s.scope} if s.scope else {}
        headers = {"Accept": "application/json"}
        body = client_auth(self.client, self.secret, params, headers)
        resp = http.request("device.authorize", "POST", url, body=body, headers=headers, form=True)
        data = json_answer(http, resp)
        for key in ("device_code", "user_code", "verification_uri"):
            if not isinstance(data.get(key), str) or not data[key]:
                raise http.fail(resp, record.INVALID_RESPONSE, f"no {key} in the answer")
        http.ok(resp)
        return Grant.of(data)

    def poll(self, state: JourneyState, grant: Grant, person: Person) -> None:
        """Poll until the token comes, honouring `interval` and `slow_down`. When the
        person's approval (device.verify) failed, the next poll still goes (the approval may
        have been accepted before a later page failed): pending, the journey fails there."""
        s, http = self.settings, state.http
        url = self.endpoint(state, s.token_url, "token_endpoint", "device.poll")
        interval = s.interval_s or grant.interval_s or s.default_interval_s
        expires_in = grant.expires_in_s or 1800.0
        give_up = time.monotonic() + expires_in + 2 * interval  # the server should have said so
        params: dict[str, str | Secret] = {
            "grant_type": GRANT,
            "device_code": grant.device_code,
        }
        last = time.monotonic()
        while True:
            gevent.sleep(max(0.0, last + interval - time.monotonic()))
            if time.monotonic() > give_up:
                raise StepFailed(
                    "device.poll", record.TIMEOUT, f"no token {expires_in:.0f} s after the code"
                )
            headers = {"Accept": "application/json"}
            body = client_auth(self.client, self.secret, params, headers)
            resp = http.request("device.poll", "POST", url, body=body, headers=headers, form=True)
            # the interval runs from the answer: a poll that queued at a busy target must
            # not make the next one arrive early
            last = time.monotonic()
            if resp.status == 200:
                resp.step = "device.token"  # the final, successful poll
                keep_tokens(state, resp, json_answer(http, resp))
                http.ok(resp)
                return
            error = oauth_error(resp)
            if resp.status == 400 and error in (PENDING, SLOW_DOWN):
                http.ok(resp, note=error)
                if error == SLOW_DOWN:
                    interval += SLOW_DOWN_S
                if person.failure is not None:
                    raise person.failure
                continue
            if error and 400 <= resp.status < 500:
                raise http.fail(resp, record.REJECTED, f"{resp.describe()}: {error}")
            raise http.fail(resp, status_outcome(resp.status), resp.describe())

    # -- the person ------------------------------------------------------------------------
    def approve_later(
        self, state: JourneyState, browser: HttpClient, grant: Grant, delay: float, person: Person
    ) -> None:
        """The person's part; a failure is kept, not raised, for the CLI's greenlet to raise
        (gevent would print a failed greenlet's arguments, the codes among them)."""
        gevent.sleep(delay)
        person.started = True
        try:
            self.approve(state, browser, grant)
        except Exception as exc:  # noqa: BLE001 - handed to the journey's greenlet
            person.failure = exc
        finally:
            browser.close()  # reports the last answer before the CLI's poll sees the token

    def approve(self, state: JourneyState, browser: HttpClient, grant: Grant) -> None:
        """Through the provider's own pages: sign in, type the user code, approve."""
        s = self.settings
        user_code = grant.user_code
        complete = grant.verification_uri_complete
        url = complete.reveal() if s.use_complete and complete else grant.verification_uri
        account = state.account
        assert account is not None
        seen: set[str] = set()
        resp = self.get(browser, url, user_code)
        for _ in range(s.max_pages):
            resp = self.follow(browser, resp, user_code)
            if resp.status != 200:
                raise browser.fail_status(resp)
            tree, charset = forms.parse(resp.body, resp.content_type)
            text = forms.decode(resp.body, resp.content_type)[0]
            if s.done_text and s.done_text in text:
                browser.ok(resp)
                return
            form = forms.find_form(
                tree, resp.url, charset, selector=s.login_form.selector, password=True
            ) or forms.find_form(tree, resp.url, charset)
            if form is None:
                if s.done_text is None:
                    browser.ok(resp)
                    return
                raise browser.fail(
                    resp, record.UNEXPECTED_PAGE, f"no form and no done_text on {resp.path}"
                )
            kind = "login" if form.has_password else "code" if asks_code(form, s) else "confirm"
            if kind in seen and kind != "confirm":
                what = (
                    "sign-in form re-shown: wrong credentials?"
                    if kind == "login"
                    else "user code refused"
                )
                raise browser.fail(resp, record.REJECTED, what)
            seen.add(kind)
            if kind == "login":
                pairs = login_pairs(
                    browser, resp, form, s.login_form, account.username, account.password
                )
            elif kind == "code":
                pairs = form.fill({s.user_code_field: user_code})
            else:
                form = pressed(browser, resp, form, s.confirm_button)
                pairs = form.fill(dict(s.confirm_fields), submit=s.confirm_button != "")
            browser.ok(resp)
            method, action, body, headers = form.request(pairs, resp.url)
            resp = browser.request(
                "device.verify",
                method,
                action,
                body=body,
                headers=headers,
                form=body is not None,
                shown_path=shown(action, user_code),
            )
        raise browser.fail(resp, record.UNEXPECTED_PAGE, f"not done after {s.max_pages} pages")

    def get(self, browser: HttpClient, url: str, user_code: Secret) -> Response:
        return browser.request("device.verify", "GET", url, shown_path=shown(url, user_code))

    def follow(self, browser: HttpClient, resp: Response, user_code: Secret) -> Response:
        for _ in range(self.settings.max_pages):
            location = resp.location
            if not resp.is_redirect or location is None:
                return resp
            browser.ok(resp)
            resp = self.get(browser, location, user_code)
        raise browser.fail(resp, record.UNEXPECTED_PAGE, "too many redirects")


class Person:
    """The person approving in the browser, as the CLI's greenlet sees them."""

    def __init__(self) -> None:
        self.started = False  # past the human delay, at the pages
        self.failure: Exception | None = None  # their step's failure (device.verify)


def browser_of(cli: HttpClient) -> HttpClient:
    """The person's own browser: another cookie jar and connections, its requests recorded
    in the same journey with the address they come from."""
    browser = HttpClient(cli.settings, cli.reporter, leave_after=cli.leave_after)
    browser.reporter = cli.reporter.with_source(browser.source or "")
    return browser


def pressed(
    browser: HttpClient, page: Response, form: forms.Form, button: str | None
) -> forms.Form:
    """The form as sent with the named button (its formaction followed); as it is for None
    (the first named button) and "" (none)."""
    if not button:
        return form
    chosen = form.pressing(button, page.url)
    if chosen is None:
        raise browser.fail(page, record.UNEXPECTED_PAGE, f"no button {button!r} on {page.path}")
    return chosen


def asks_code(form: forms.Form, settings: DeviceSettings) -> bool:
    """Does the form ask for the user code? A visible input of that name: a confirmation
    page carries the code on as a hidden one (oidc-provider)."""
    return any(c.name == settings.user_code_field and c.kind != "hidden" for c in form.controls)


def shown(url: str, user_code: Secret) -> str | None:
    """The path to show for a URL whose path carries the user code (DOT's confirmation
    page), in any case and with or without its dash: that segment as <redacted>; None when
    the path does not carry it."""
    path = url.split("://", 1)[-1].partition("/")[2].split("?", 1)[0].split("#", 1)[0]
    code = _letters(user_code.reveal())
    parts = path.split("/")
    if not code or not any(code in _letters(unquote(part)) for part in parts):
        return None
    return "/" + "/".join("<redacted>" if code in _letters(unquote(p)) else p for p in parts)


def _letters(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return float(value)
