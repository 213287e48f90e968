"""The second factor: a TOTP code (RFC 6238), computed at request time from the account's
secret (pyotp), after any password step (json_login, form_login).

A server accepts each code once per account and period, so an account that signs in
twice within one period cannot use the same code twice. With `reuse: wait` the person
waits for the next period, as someone reading an authenticator app would; with `send`
the code goes anyway, and a refusal says the code was a reused one. The secret and the
code are revealed only into the request that carries the code.

Step: mfa.totp (form mode: the GET of the code page and the POST, both mfa.totp).
"""

from __future__ import annotations

import gevent

import hashlib
import time
from collections.abc import Callable, Mapping

import pyotp

from authsurge.journeys import forms
from authsurge.journeys.client import HttpClient, StepFailed
from authsurge.journeys.form_login import CompiledRule, submit
from authsurge.journeys.json_login import (
    answer_json,
    encode_body,
    refusal,
    rule_failures,
    take_tokens,
)
from authsurge.journeys.reporting import status_outcome
from authsurge.journeys.response import Response
from authsurge.journeys.state import JourneyState
from authsurge.journeys.urls import resolve_url
from authsurge.rundir import records as record
from authsurge.scenario import JsonLoginSettings, TotpSettings
from authsurge.secret import Secret

STEP = "mfa.totp"
# Per account, the last period whose code this process sent, shared by every journey of
# the process (two journeys may sign the same account in). Accounts are never shared
# between workers, so this sees every code an account was sent.
SENT: dict[str, int] = {}
_DIGESTS = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}


def totp_code(seed: Secret, counter: int, settings: TotpSettings) -> Secret:
    """The code of one period (counter = unix time // period), itself a secret."""
    otp = pyotp.TOTP(
        seed.reveal(),
        digits=settings.digits,
        digest=_DIGESTS[settings.algorithm],
        interval=settings.period_s,
    )
    return Secret(otp.generate_otp(counter), "a TOTP code")


class Totp:
    """The totp step group. `seeds`: username -> TOTP secret (credentials.totp_file)."""

    group = "totp"
    needs_account = True
    logout = False

    def __init__(
        self,
        settings: TotpSettings,
        seeds: Mapping[str, Secret],
        login: JsonLoginSettings | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.seeds = seeds
        self.login = login or JsonLoginSettings()
        self.clock = clock
        self.form_rule = CompiledRule(settings.form_success)
        self.sent = SENT

    def __call__(self, state: JourneyState) -> None:
        account = state.account
        seed = self.seeds.get(account.username) if account is not None else None
        if account is None or seed is None:
            raise StepFailed(STEP, record.UNEXPECTED_PAGE, "no TOTP secret for this account")
        if self.settings.mode == "json" and not state.second_factor_pending:
            # the JSON login signed the person in fully: the account has no second factor
            raise StepFailed(STEP, record.UNEXPECTED_PAGE, "the login asked for no second factor")
        counter, reused = self.period(account.username)
        code = totp_code(seed, counter, self.settings)
        if self.settings.mode == "json":
            self.json_code(state, code, reused)
        else:
            self.form_code(state, code, reused)
        state.second_factor_pending = False

    def period(self, username: str) -> tuple[int, bool]:
        """The period whose code to send, and whether this account already sent it."""
        period_s = self.settings.period_s
        counter = int(self.clock() // period_s)
        # >=: a clock stepped back must not send an old code as new
        reused = self.sent.get(username, -1) >= counter
        if self.settings.reuse == "wait":
            while self.sent.get(username, -1) >= counter:  # two people may have waited
                gevent.sleep(max(0.0, (counter + 1) * period_s - self.clock()) + 0.05)
                counter = int(self.clock() // period_s)
            reused = False
        # marked before it is sent: a server counts a code as used once it has seen it
        self.sent[username] = counter
        return counter, reused

    def json_code(self, state: JourneyState, code: Secret, reused: bool) -> None:
        s, http = self.settings, state.http
        headers = {"Accept": "application/json"}
        if s.session_header and state.session_token:
            headers[s.session_header] = state.session_token
        values: dict[str, str | Secret] = dict(s.fields)
        values[s.code_field] = code
        body, _ = encode_body("json", values, headers)
        resp = http.request(
            STEP, "POST", resolve_url(state.base_url, s.url), body=body, headers=headers
        )
        data = answer_json(resp)
        failures = rule_failures(s.success, resp, data)
        if not failures:
            take_tokens(http, resp, data, state, self.login)
            http.ok(resp)
            return
        outcome, reason = refusal(resp, data, "TOTP code") or (
            record.UNEXPECTED_PAGE,
            f"{resp.describe()}: {'; '.join(failures)}",
        )
        raise http.fail(resp, outcome, with_reuse(reason, outcome, reused))

    def form_code(self, state: JourneyState, code: Secret, reused: bool) -> None:
        s, http = self.settings, state.http
        page = http.request(STEP, "GET", resolve_url(state.base_url, s.url))
        form = self.code_form(http, page)
        values: dict[str, str | Secret] = {**s.form.extra_fields, **s.fields}
        values[s.code_field] = code
        http.ok(page)
        resp = submit(http, STEP, form, form.fill(values), page.url)
        if resp.status == 200 and self.find(resp) is not None:
            reason = with_reuse("code page re-shown: TOTP code rejected", record.REJECTED, reused)
            raise http.fail(resp, record.REJECTED, reason)
        failures = self.form_rule.failures(http, resp)
        if failures:
            if resp.status >= 400:
                outcome, reason = status_outcome(resp.status), resp.describe()
            else:
                outcome, reason = (
                    record.UNEXPECTED_PAGE,
                    f"{resp.describe()}: {'; '.join(failures)}",
                )
            raise http.fail(resp, outcome, with_reuse(reason, outcome, reused))
        http.ok(resp)

    def find(self, page: Response) -> forms.Form | None:
        tree, charset = forms.parse(page.body, page.content_type)
        spec = self.settings.form
        form = forms.find_form(
            tree, page.url, charset, selector=spec.selector, field_names=(self.settings.code_field,)
        )
        return form if form is not None and self.settings.code_field in form.names() else None

    def code_form(self, http: HttpClient, page: Response) -> forms.Form:
        if page.status != 200:
            raise http.fail_status(page)
        form = self.find(page)
        if form is None:
            raise http.fail(
                page,
                record.UNEXPECTED_PAGE,
                f"no form with a {self.settings.code_field} field on {page.method} {page.path}",
            )
        return form


def with_reuse(reason: str, outcome: str, reused: bool) -> str:
    """A refusal of a code this account already sent in this period says so."""
    if reused and outcome == record.REJECTED:
        return f"{reason}; code already used by this account in this period (totp.reuse: send)"
    return reason
