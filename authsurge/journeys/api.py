"""API calls with the person's session cookie, bearer token or app session token (in a
named header): a weighted list of endpoints.

Step: api.call, or the endpoint's own `name`.
"""

from __future__ import annotations

import random
from itertools import accumulate

from authsurge.journeys.client import StepFailed
from authsurge.journeys.reporting import status_outcome
from authsurge.journeys.state import JourneyState
from authsurge.journeys.tokens import oauth_error, with_hints
from authsurge.journeys.urls import resolve_url
from authsurge.rundir import records as record
from authsurge.scenario import ApiSettings

_BODY_METHODS = frozenset(("POST", "PUT", "PATCH"))


class ApiCalls:
    """The api step group: `calls` requests, each to an endpoint drawn by weight."""

    group = "api"
    needs_account = False
    logout = False

    def __init__(
        self, settings: ApiSettings | None = None, rng: random.Random | None = None
    ) -> None:
        self.settings = settings or ApiSettings()
        self.endpoints = list(self.settings.endpoints)
        self.cum_weights = list(accumulate(e.weight for e in self.endpoints))
        self.rng = rng or random.Random()

    def __call__(self, state: JourneyState) -> None:
        auth = self.settings.auth
        for _ in range(self.settings.calls):
            if len(self.endpoints) == 1:
                endpoint = self.endpoints[0]
            else:
                endpoint = self.rng.choices(self.endpoints, cum_weights=self.cum_weights)[0]
            step = endpoint.name or "api.call"
            headers = {"Accept": "application/json"}
            # auto: a person holding a token uses it (an SPA/mobile app: the access token as a
            # bearer token, else the session token in the header), else the session cookie
            use_bearer = auth == "bearer" or (auth == "auto" and state.access_token is not None)
            use_header = auth == "header" or (
                auth == "auto" and not use_bearer and state.session_token is not None
            )
            if use_header:
                if not state.session_token:
                    raise StepFailed(
                        step,
                        record.INVALID_RESPONSE,
                        "no session token held (flows.api.auth is header: a json_login "
                        "with session_token_path gives one)",
                    )
                headers[self.settings.header] = state.session_token
            elif use_bearer:
                if not state.access_token:
                    raise StepFailed(
                        step,
                        record.INVALID_RESPONSE,
                        "no access token held (flows.api.auth is bearer)",
                    )
                headers["Authorization"] = "Bearer " + state.access_token
            body = b"" if endpoint.method in _BODY_METHODS else None
            resp = state.http.request(
                step,
                endpoint.method,
                resolve_url(state.base_url, endpoint.path),
                body=body,
                headers=headers,
            )
            if resp.status not in endpoint.expect_status:
                hint = state.revoked_hint() if use_bearer else None
                raise state.http.fail(
                    resp,
                    status_outcome(resp.status),
                    with_hints(resp.describe(), oauth_error(resp), hint),
                )
            if 200 <= resp.status < 300 and resp.body and resp.content_type.startswith("text/html"):
                # We asked for JSON: a 200 HTML page is a maintenance or login page, not a success.
                raise state.http.fail(
                    resp,
                    record.INVALID_RESPONSE,
                    f"HTML page instead of JSON on {resp.method} {resp.path}",
                )
            state.http.ok(resp)
