"""Journeys: a scenario's step groups composed into what one person does, run many times.

A `Journey` is built once per scenario journey and run concurrently by many greenlets;
everything that belongs to one person (browser, cookies, tokens) lives in the
`JourneyState` of one run, and everything shared (settings, the OIDC discovery cache, the
TLS context) lives in the step objects. Composition is keycloak-benchmark style: a list
of step groups, each making named requests.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from authsurge.errors import BadInput
from authsurge.journeys.api import ApiCalls
from authsurge.journeys.client import HttpClient, HttpSettings, PersonLeft, StepFailed
from authsurge.journeys.credentials import ScenarioSecrets
from authsurge.journeys.device import DeviceLogin
from authsurge.journeys.email_code import EmailCodeLogin
from authsurge.journeys.form_login import FormLogin
from authsurge.journeys.json_login import JsonLogin
from authsurge.journeys.logout import FormLogout, OidcLogout
from authsurge.journeys.magic_link import MagicLinkLogin
from authsurge.journeys.oidc import OidcLogin, Provider
from authsurge.journeys.reporting import Reporter
from authsurge.journeys.signup import EmailVerify, FormSignup
from authsurge.journeys.state import JourneyContext, JourneyResult, JourneyState, Step
from authsurge.journeys.tokens import (
    ClientCredentials,
    Introspect,
    PasswordGrant,
    Refresh,
    Revoke,
    Userinfo,
)
from authsurge.journeys.totp import Totp
from authsurge.mail import MailboxClient
from authsurge.rundir import records as record
from authsurge.scenario import ClientConfig, FlowSettings, Scenario, request_names
from authsurge.scenario.population import LEAVING_GROUPS, SIGN_IN_GROUPS
from authsurge.secret import Secret

# Step groups that need a token from an earlier step, and which earlier steps give one.
_NEEDS = {
    "token_refresh": ("oidc_login",),
    "oidc_logout": ("oidc_login",),
    "userinfo": ("oidc_login",),
    "token_introspect": ("oidc_login", "client_credentials"),
    "token_revoke": ("oidc_login", "client_credentials"),
    "email_verify": ("form_signup",),
    # the second factor follows a password step (inside oidc_login it is not supported)
    "totp": ("json_login", "form_login"),
}


class Journey:
    """What one person does: step groups in order. `run` never raises for target failures."""

    def __init__(
        self,
        name: str,
        steps: Sequence[Step],
        http: HttpSettings | None = None,
        *,
        logout_share: float = 1.0,
        abandon_after: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if not steps:
            raise BadInput(f"journey {name!r} has no steps")
        self.name = name
        self.steps = list(steps)
        self.http = http or HttpSettings()
        self.logout_share = logout_share
        self.abandon_after = abandon_after  # step name after which everyone leaves
        # an account from the pool, unless a sign-up before the first step that needs one
        # creates it
        self.needs_account = False
        for s in self.steps:
            if getattr(s, "creates_account", False):
                break
            if s.needs_account:
                self.needs_account = True
                break
        self._rng = rng or random.Random()

    def __repr__(self) -> str:
        return f"Journey({self.name!r}, [{', '.join(s.group for s in self.steps)}])"

    def run(self, ctx: JourneyContext, *, stay: bool = False) -> JourneyResult:
        """One attempt: a new browser (connections, cookie jar), the steps, then close.

        stay: the person stays signed in (no logout steps), and when the attempt succeeds
        the result holds their browser, open, for the signed-in population to adopt."""
        logs_out = not stay and (self.logout_share >= 1.0 or self._rng.random() < self.logout_share)
        state = open_person(ctx, self.http, abandon_after=self.abandon_after)
        result = JourneyResult(True, record.OK, None, "")
        try:
            self.run_steps(state, logs_out=logs_out)
            if stay:
                result.state = state
        except StepFailed as failed:
            result = JourneyResult(
                False, failed.outcome, failed.step, failed.reason, failed.retry_after_s
            )
        except PersonLeft:
            pass  # abandon_after: leaving there is this journey's success
        finally:
            if result.state is None:
                state.http.close()
        return result

    @property
    def signs_in(self) -> bool:
        """Does a successful attempt leave the person signed in (before any logout)?"""
        return (
            self.abandon_after is None
            # a signed-up identity is no account the population could sign in again with
            and not any(getattr(s, "creates_account", False) for s in self.steps)
            and any(s.group in SIGN_IN_GROUPS for s in self.steps)
            # a revoke is no logout step (it runs for everyone): its token is gone
            and not any(s.group in LEAVING_GROUPS and not s.logout for s in self.steps)
        )

    def run_steps(self, state: JourneyState, *, logs_out: bool = True) -> None:
        """The steps on a person the caller holds (a signed-in person keeps their browser);
        raises StepFailed."""
        for step in self.steps:
            if step.logout and not logs_out:
                continue
            step(state)


def open_person(
    ctx: JourneyContext, http: HttpSettings | None = None, *, abandon_after: str | None = None
) -> JourneyState:
    """A fresh person (browser, account) whose connections the caller closes
    (`state.http.close()`): `person` for one attempt, the population for a whole run."""
    reporter = Reporter(
        ctx.environment.events.request.fire,
        {
            "journey": ctx.journey,
            "journey_id": ctx.journey_id,
            "person_id": ctx.person_id,
            "attempt": ctx.attempt,
            "t_intended": ctx.t_intended,
            "worker": ctx.worker,
            "cohort": ctx.cohort,
        },
        prefix="" if ctx.cohort == record.SURGE else ctx.cohort + ":",
    )
    client = HttpClient(http or HttpSettings(), reporter, leave_after=abandon_after)
    reporter.base["source"] = client.source or ""  # where its connections come from
    return JourneyState(ctx=ctx, http=client, account=ctx.account)


@contextmanager
def person(
    ctx: JourneyContext, http: HttpSettings | None = None, *, abandon_after: str | None = None
) -> Iterator[JourneyState]:
    """A fresh person for one attempt; their connections are closed on the way out.

    For custom flows and tests: `with person(ctx) as state: FormLogin()(state)`. With
    `abandon_after`, the request of that step name raises PersonLeft once it succeeded.
    """
    state = open_person(ctx, http, abandon_after=abandon_after)
    try:
        yield state
    finally:
        state.http.close()


StepFactory = Callable[[FlowSettings, ScenarioSecrets, "_Shared"], Step]


class _Shared:
    """What the step groups of one journey share: the OIDC provider (discovery cache)."""

    def __init__(self, flows: FlowSettings, secrets: ScenarioSecrets) -> None:
        self._flows = flows
        self._secrets = secrets
        self._provider: Provider | None = None
        self._mailbox: MailboxClient | None = None

    @property
    def mailbox(self) -> MailboxClient:
        url = self._flows.mail.mailbox_url
        if url is None:
            raise BadInput(
                "step groups that read mail need flows.mail.mailbox_url: the HTTP URL of "
                "a mail sink (authsurge.mail.MailSink) that the target sends its mail to"
            )
        if self._mailbox is None:
            self._mailbox = MailboxClient(url)
        return self._mailbox

    @property
    def provider(self) -> Provider | None:
        oidc = self._flows.oidc
        if oidc is not None and self._provider is None:
            self._provider = Provider(oidc, self._secrets.client_secret(oidc.client))
        return self._provider


def _oidc_client(
    flows: FlowSettings, secrets: ScenarioSecrets
) -> tuple[ClientConfig | None, Secret | None]:
    client = flows.oidc.client if flows.oidc else None
    return client, secrets.client_secret(client)


def _required(provider: Provider | None, group: str) -> Provider:
    if provider is None:
        raise BadInput(f"step group {group} needs flows.oidc")
    return provider


def _introspect(flows: FlowSettings, secrets: ScenarioSecrets, shared: _Shared) -> Step:
    client = flows.tokens.introspection_client or (flows.oidc.client if flows.oidc else None)
    return Introspect(shared.provider, client, secrets.client_secret(client), flows.tokens)


def _client_credentials(flows: FlowSettings, secrets: ScenarioSecrets, shared: _Shared) -> Step:
    client = flows.tokens.client_credentials
    if client is None:
        raise BadInput("client_credentials needs flows.tokens.client_credentials")
    if shared.provider is None and not flows.tokens.token_url:
        raise BadInput("client_credentials needs flows.oidc (discovery) or flows.tokens.token_url")
    return ClientCredentials(shared.provider, client, secrets.client_secret(client), flows.tokens)


def _password_grant(flows: FlowSettings, secrets: ScenarioSecrets, shared: _Shared) -> Step:
    client = flows.tokens.password_client
    if client is None:
        raise BadInput("password_grant needs flows.tokens.password_client")
    if shared.provider is None and not flows.tokens.token_url:
        raise BadInput("password_grant needs flows.oidc (discovery) or flows.tokens.token_url")
    return PasswordGrant(shared.provider, client, secrets.client_secret(client), flows.tokens)


def _device(flows: FlowSettings, secrets: ScenarioSecrets, shared: _Shared) -> Step:
    device = flows.device
    if device.client_id is not None:  # a public CLI client of its own
        client: ClientConfig = ClientConfig(client_id=device.client_id)
    elif flows.oidc is not None:
        client = flows.oidc.client
    else:
        raise BadInput("device_login needs flows.device.client_id or flows.oidc")
    return DeviceLogin(device, shared.provider, client, secrets.client_secret(client))


STEP_FACTORIES: dict[str, StepFactory] = {
    "form_login": lambda f, s, sh: FormLogin(f.form_login),
    "form_logout": lambda f, s, sh: FormLogout(f.form_logout),
    "oidc_login": lambda f, s, sh: OidcLogin(_required(sh.provider, "oidc_login")),
    "oidc_logout": lambda f, s, sh: OidcLogout(_required(sh.provider, "oidc_logout")),
    "token_refresh": lambda f, s, sh: Refresh(
        _required(sh.provider, "token_refresh"), *_oidc_client(f, s), f.tokens
    ),
    "token_revoke": lambda f, s, sh: Revoke(
        _required(sh.provider, "token_revoke"), *_oidc_client(f, s), f.tokens
    ),
    "userinfo": lambda f, s, sh: Userinfo(
        _required(sh.provider, "userinfo"), *_oidc_client(f, s), f.tokens
    ),
    "token_introspect": _introspect,
    "client_credentials": _client_credentials,
    "api": lambda f, s, sh: ApiCalls(f.api),
    "form_signup": lambda f, s, sh: FormSignup(f.signup),
    "email_verify": lambda f, s, sh: EmailVerify(f.mail, sh.mailbox),
    "email_code_login": lambda f, s, sh: EmailCodeLogin(f.email_code, f.mail, sh.mailbox),
    "magic_link_login": lambda f, s, sh: MagicLinkLogin(f.magic_link, f.mail, sh.mailbox),
    # json_login's second_factor_next is set by compose, which sees the whole journey
    "json_login": lambda f, s, sh: JsonLogin(f.json_login),
    "password_grant": _password_grant,
    "totp": lambda f, s, sh: Totp(f.totp, s.totp, f.json_login),
    "device_login": _device,
}


def compose(
    name: str,
    groups: Sequence[str],
    flows: FlowSettings,
    secrets: ScenarioSecrets,
    http: HttpSettings | None = None,
    *,
    logout_share: float = 1.0,
    abandon_after: str | None = None,
) -> Journey:
    """A journey from step group names, e.g. compose("sso", ["oidc_login", "api"], ...)."""
    check_order(name, groups)
    shared = _Shared(flows, secrets)
    unknown = [g for g in groups if g not in STEP_FACTORIES]
    if unknown:
        raise BadInput(
            f"journey {name!r}: unknown step group(s) {unknown}; known: {', '.join(STEP_FACTORIES)}"
        )
    if abandon_after is not None and abandon_after not in (known := request_names(groups, flows)):
        # The scenario checks this too; compose is also called from users' locustfiles.
        raise BadInput(
            f"journey {name!r}: abandon_after {abandon_after!r} is not a request of its "
            f"steps; known: {', '.join(known)}"
        )
    steps = [STEP_FACTORIES[g](flows, secrets, shared) for g in groups]
    for i, step in enumerate(steps):
        if isinstance(step, JsonLogin):  # a totp step later in the journey takes over
            step.second_factor_next = "totp" in groups[i + 1 :]
    return Journey(name, steps, http, logout_share=logout_share, abandon_after=abandon_after)


def check_order(name: str, groups: Sequence[str]) -> None:
    """A step that uses a token must come after a step that gets one."""
    for i, group in enumerate(groups):
        sources = _NEEDS.get(group)
        if sources and not any(g in sources for g in groups[:i]):
            raise BadInput(
                f"journey {name!r}: {group} needs {' or '.join(sources)} earlier in its steps"
            )


def build_journeys(scenario: Scenario, secrets: ScenarioSecrets) -> dict[str, Journey]:
    """One Journey per scenario journey (each with its own discovery cache)."""
    base_dir = scenario.source.parent if scenario.source else None
    http = HttpSettings.from_target(scenario.target, base_dir)
    return {
        name: compose(
            name,
            config.steps,
            scenario.flows,
            secrets,
            http,
            logout_share=config.logout_share,
            abandon_after=config.abandon_after,
        )
        for name, config in scenario.journeys.items()
    }
