"""What the runner hands a journey (context), what it gets back (result), and what one
person carries from step to step (state: browser, account, tokens)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from authsurge.journeys.client import HttpClient
    from authsurge.journeys.credentials import Account
    from authsurge.journeys.response import Response


@dataclass
class JourneyContext:
    """Built by the runner for each attempt."""

    environment: Any  # locust.env.Environment: every request fires environment.events.request
    base_url: str
    account: Account | None  # from AccountPool; None for journeys that need none
    journey: str  # journey name from the scenario
    journey_id: str
    person_id: str
    attempt: int
    t_intended: float  # epoch s the schedule meant this journey to start
    worker: str
    # records.SURGE, POPULATION or WARMUP; outside the surge, request names get the cohort
    # as a prefix ("population:api.call"), in the records and in Locust's statistics alike
    cohort: str = "surge"


@dataclass
class JourneyResult:
    ok: bool
    outcome: str  # record.OK or an error class
    step: str | None  # the step that failed
    reason: str
    retry_after_s: float | None = None  # the failed answer's Retry-After (429/503)
    state: JourneyState | None = None  # Journey.run(stay=True): the signed-in person, open


@dataclass
class JourneyState:
    """One person during one attempt: their browser, account and the tokens they hold."""

    ctx: JourneyContext
    http: HttpClient
    account: Account | None
    # tokens are secrets: never in a repr
    access_token: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    id_token: str | None = field(default=None, repr=False)
    token_expires_at: float | None = None  # epoch s, from the token response's expires_in
    # an app session's token from a JSON login (allauth's X-Session-Token, Flask-Security's
    # Authentication-Token): later requests carry it in a header
    session_token: str | None = field(default=None, repr=False)
    # the password step succeeded and the server waits for the second factor (totp)
    second_factor_pending: bool = False
    revoked: set[str] = field(default_factory=set)  # token kinds revoked by token.revoke
    # the request that last asked the target to send this person a mail (the sign-up):
    # the mail to wait for was sent at or after its start
    mail_asked: Response | None = None

    @property
    def base_url(self) -> str:
        return self.ctx.base_url

    def revoked_hint(self) -> str:
        """Added to a failure reason when a revoked token is the likely cause."""
        if not self.revoked:
            return ""
        return f"{' and '.join(sorted(self.revoked))} revoked earlier by token.revoke"


class Step(Protocol):
    """One step group of a journey (form_login, oidc_login, api, ...)."""

    group: str  # the scenario's step group name
    needs_account: bool
    # optional: creates_account = True when later groups use the identity it signs up
    # (form_signup); read with getattr, so custom steps need not declare it
    logout: bool  # skipped for people outside JourneyConfig.logout_share

    def __call__(self, state: JourneyState) -> None: ...
