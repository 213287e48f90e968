"""The scenario schema: Scenario and its sections.

A scenario is data: target, credentials, flow settings, journeys (compositions of step
groups), traffic and behaviour (in traffic.py), SLOs and run bounds. Unknown keys are
errors (Strict, in base.py); loading.py reads the YAML and names the file, the line and
the key in every error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from authsurge.errors import ScenarioError
from authsurge.scenario import addresses
from authsurge.scenario.abort import AbortCondition
from authsurge.scenario.accounts import AccountSet, ClientConfig, CredentialsConfig
from authsurge.scenario.app_flows import JsonLoginSettings, TotpSettings
from authsurge.scenario.base import Strict
from authsurge.scenario.device_flow import DeviceSettings
from authsurge.scenario.forms import FormSpec, SuccessRule
from authsurge.scenario.mail_flows import (
    EmailCodeSettings,
    MagicLinkSettings,
    MailSettings,
    SignupSettings,
)
from authsurge.scenario.population import PopulationConfig, check_sign_in
from authsurge.scenario.step_groups import STEP_REQUESTS, StepGroup
from authsurge.scenario.traffic import Behaviour, TraceShape, TrafficConfig

# --- target -----------------------------------------------------------------------------


class TargetConfig(Strict):
    base_url: str = "http://127.0.0.1:8000"
    allowed_hosts: list[str] = Field(default_factory=lambda: ["127.0.0.1", "localhost", "::1"])
    timeout_s: Annotated[float, Field(gt=0)] = 10.0
    verify_tls: bool = True
    ca_bundle: Path | None = None
    insecure: bool = False  # skip certificate checks; logged loudly
    pids: list[int] = Field(default_factory=list)  # target processes to sample (local targets)
    pid_file: Path | None = None  # or read the target's main PID from here
    port: int | None = None  # or sample whatever listens on this local port
    prometheus_url: str | None = None  # scraped once a second into metrics.parquet
    prometheus_metrics: list[str] = Field(
        default_factory=lambda: ["process_cpu_seconds_total", "process_resident_memory_bytes"]
    )
    # each person's connections come from one of these, round-robin (addresses.py)
    source_addresses: list[str] = Field(default_factory=list)
    version: str | None = None  # release label of the target, for compare/history
    git_commit: str | None = None

    @field_validator("base_url")
    @classmethod
    def _url(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        return v.rstrip("/")

    @field_validator("source_addresses", mode="before")
    @classmethod
    def _addresses(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = [v]
        return addresses.expand(v) if isinstance(v, list | tuple) else v

    @model_validator(mode="after")
    def _host_allowed(self) -> TargetConfig:
        scraped = urlsplit(self.prometheus_url or "").hostname
        if scraped and scraped not in self.allowed_hosts:
            raise ValueError(f"target.prometheus_url: host {scraped!r} is not in allowed_hosts")
        host = urlsplit(self.base_url).hostname or ""
        if host not in self.allowed_hosts:
            raise ValueError(
                f"host {host!r} of base_url is not in allowed_hosts {self.allowed_hosts}; "
                "add it there if you really mean to load it"
            )
        if self.source_addresses and not addresses.reachable_from_loopback(host):
            raise ValueError(
                f"target.source_addresses are IPv4 loopback addresses; base_url's host {host!r} "
                "is not, and they cannot reach it (use 127.0.0.1 or localhost)"
            )
        return self


# --- flow settings (read by authsurge.journeys) -----------------------------------------


class FormLoginSettings(Strict):
    login_url: str = "/accounts/login/"
    form: FormSpec = Field(default_factory=FormSpec)
    success: SuccessRule = Field(default_factory=lambda: SuccessRule(status=[302, 303]))


class FormLogoutSettings(Strict):
    url: str = "/accounts/logout/"
    method: Literal["POST", "GET"] = "POST"
    csrf_cookie: str | None = "csrftoken"  # take the CSRF token from this cookie ...
    csrf_page: str | None = None  # ... or from the form on this page
    csrf_field: str = "csrfmiddlewaretoken"
    csrf_header: str | None = None  # also send it in this header (e.g. X-CSRFToken)
    expect_status: list[int] = Field(default_factory=lambda: [200, 302, 303])


class OidcSettings(Strict):
    issuer: str  # discovery at {issuer}/.well-known/openid-configuration
    discovery_url: str | None = None
    client: ClientConfig
    redirect_uri: str
    scope: str = "openid profile"
    login_form: FormSpec = Field(default_factory=FormSpec)
    consent: Literal["auto", "never"] = "auto"  # auto: submit a consent form when one appears
    consent_form: FormSpec = Field(default_factory=FormSpec)
    consent_fields: dict[str, str] = Field(default_factory=lambda: {"allow": "Authorize"})
    expect_id_token: bool = True
    expect_refresh_token: bool = True
    max_redirects: Annotated[int, Field(ge=1, le=50)] = 15
    post_logout_redirect_uri: str | None = None
    logout_fields: dict[str, str] = Field(
        default_factory=dict
    )  # sent with a logout confirmation form
    # Discovery overrides, e.g. {revocation_endpoint: /o/revoke_token/} for a provider whose
    # discovery document leaves an endpoint out (django-oauth-toolkit lists no revocation
    # or introspection endpoint); relative URLs are relative to the target's base_url.
    endpoints: dict[str, str] = Field(default_factory=dict)


class TokenSettings(Strict):
    refreshes: Annotated[int, Field(ge=0)] = 1  # refresh this many times per journey
    client_credentials: ClientConfig | None = None  # for the client_credentials step
    client_credentials_scope: str | None = None
    introspection_client: ClientConfig | None = None  # who may call introspection
    revoke: Literal["auto", "access_token", "refresh_token", "both"] = (
        "auto"  # auto: refresh token if held
    )
    token_url: str | None = (
        None  # token endpoint for client_credentials and password_grant without flows.oidc
    )
    password_client: ClientConfig | None = None  # for the password_grant step (RFC 6749 4.3)
    password_scope: str | None = None


class ApiEndpoint(Strict):
    path: str
    method: Literal["GET", "POST", "PUT", "DELETE", "PATCH"] = "GET"
    weight: Annotated[float, Field(gt=0)] = 1.0
    expect_status: list[int] = Field(default_factory=lambda: [200])
    name: str | None = None  # step name; default "api.call"


class ApiSettings(Strict):
    # auto: bearer when an access token is held, else the session token in `header` when
    # one is held, else the session cookie; header: the JSON login's session token in
    # `header` (allauth's X-Session-Token, Flask-Security's Authentication-Token)
    auth: Literal["auto", "session", "bearer", "header"] = "auto"
    header: str = "X-Session-Token"
    endpoints: list[ApiEndpoint] = Field(default_factory=lambda: [ApiEndpoint(path="/api/me")])
    calls: Annotated[int, Field(ge=0)] = 1  # calls per journey


class FlowSettings(Strict):
    form_login: FormLoginSettings = Field(default_factory=FormLoginSettings)
    form_logout: FormLogoutSettings = Field(default_factory=FormLogoutSettings)
    oidc: OidcSettings | None = None
    tokens: TokenSettings = Field(default_factory=TokenSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    signup: SignupSettings = Field(default_factory=SignupSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    email_code: EmailCodeSettings = Field(default_factory=EmailCodeSettings)
    magic_link: MagicLinkSettings = Field(default_factory=MagicLinkSettings)
    json_login: JsonLoginSettings = Field(default_factory=JsonLoginSettings)
    totp: TotpSettings = Field(default_factory=TotpSettings)
    device: DeviceSettings = Field(default_factory=DeviceSettings)


def request_names(groups: Sequence[str], flows: FlowSettings) -> list[str]:
    """The step names the requests of these step groups can have with these flow settings,
    in order and once each (what `abandon_after` may name)."""
    names: list[str] = []
    for group in groups:
        if group == "api":
            made: Sequence[str] = [e.name or "api.call" for e in flows.api.endpoints]
        elif group == "form_logout" and flows.form_logout.csrf_page is None:
            made = ["logout"]
        else:
            made = STEP_REQUESTS.get(group, ())
        names.extend(n for n in made if n not in names)
    return names


class JourneyConfig(Strict):
    """What one person does: step groups in order (keycloak-benchmark style composition)."""

    steps: Annotated[list[StepGroup], Field(min_length=1)]
    logout_share: Annotated[float, Field(ge=0, le=1)] = 1.0  # share of people who run logout steps
    # Everyone leaves right after the first request with this step name succeeds (e.g.
    # login.form: people who open the login page and go): a successful journey, no
    # further requests, no logout. Checked against the steps by Scenario.
    abandon_after: str | None = None
    # this journey's own people (e.g. the accounts with a second factor, for json_login +
    # totp) instead of `credentials`' accounts; the password stays the credentials'
    accounts: AccountSet | None = None


# --- SLOs, analysis, run bounds ---------------------------------------------------------


_SLO_RE = re.compile(
    r"^\s*(?:(?P<step>[\w.*:-]+)\s+)?(?P<metric>p50|p90|p95|p99|max|error_rate)\s*"
    r"(?P<op><=|<)\s*(?P<value>[\d.]+)\s*(?P<unit>ms|s|%)?"
    r"(?:\s+at\s+offered\s*<=\s*(?P<offered>[\d.]+)\s*/s)?\s*$"
)


class Slo(Strict):
    """A threshold, e.g. 'login.submit p95 < 800ms at offered <= 100/s' or 'error_rate < 1%'
    (no step: '*', every step and journey)."""

    step: str
    metric: Literal["p50", "p90", "p95", "p99", "max", "error_rate"]
    max: float  # ms for latencies, a fraction (0.01) for error_rate
    at_offered_max: float | None = None  # judge only windows at or below this offered load

    @classmethod
    def parse(cls, text: str) -> Slo:
        m = _SLO_RE.match(text)
        if not m:
            raise ValueError(
                f"cannot read SLO {text!r}; expected e.g. 'login.submit p95 < 800ms at offered <= 100/s'"
            )
        value = float(m["value"])
        if m["metric"] == "error_rate":
            value = value / 100 if m["unit"] == "%" else value
        elif m["unit"] == "s":
            value *= 1000
        offered = float(m["offered"]) if m["offered"] else None
        return cls.model_validate(
            {
                "step": m["step"] or "*",
                "metric": m["metric"],
                "max": value,
                "at_offered_max": offered,
            }
        )


class AnalysisConfig(Strict):
    window_s: Annotated[float, Field(gt=0)] = 1.0
    settle_s: Annotated[float, Field(ge=0)] = 2.0  # seconds discarded after each load change
    goodput_share: Annotated[float, Field(gt=0, le=1)] = 0.9  # knee: goodput < share x offered
    knee_p95_ms: Annotated[float, Field(gt=0)] | None = None  # knee: p95 above this


def _parsed_strings(v: Any, parse: Callable[[str], Any]) -> Any:
    """A list whose strings are read with `parse` (the written form of SLOs and abort
    conditions); anything else as it is, for pydantic to judge."""
    if isinstance(v, list):
        return [parse(item) if isinstance(item, str) else item for item in v]
    return v


class RunBounds(Strict):
    duration_s: Annotated[float, Field(gt=0, le=24 * 3600)] = 60.0
    max_journeys: Annotated[int, Field(ge=1)] = 100_000
    workers: Annotated[int, Field(ge=0, le=256)] = 1  # 0: one per core
    drain_s: Annotated[float, Field(ge=0)] = 5.0  # wait this long for journeys in flight at the end
    abort_on: list[AbortCondition] = Field(default_factory=list)  # stop early (authsurge.run.abort)

    @field_validator("abort_on", mode="before")
    @classmethod
    def _abort_strings(cls, v: Any) -> Any:
        return _parsed_strings(v, AbortCondition.parse)

    @model_validator(mode="after")
    def _windows_fit(self) -> RunBounds:
        for condition in self.abort_on:
            if condition.for_s > self.duration_s:
                raise ValueError(
                    f"run.abort_on {condition.text!r}: its {condition.for_s:g}-s window is longer "
                    f"than the run (run.duration_s {self.duration_s:g} s), so it could never hold"
                )
        return self


class Scenario(Strict):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")]
    description: str = ""
    target: TargetConfig = Field(default_factory=TargetConfig)
    credentials: CredentialsConfig = Field(default_factory=CredentialsConfig)
    flows: FlowSettings = Field(default_factory=FlowSettings)
    journeys: dict[str, JourneyConfig]
    traffic: TrafficConfig
    behaviour: Behaviour = Field(default_factory=Behaviour)
    population: PopulationConfig | None = None  # people signed in before the surge
    slos: list[Slo] = Field(default_factory=list)
    analysis: AnalysisConfig = Field(default_factory=AnalysisConfig)
    run: RunBounds = Field(default_factory=RunBounds)
    source: Path | None = Field(default=None, exclude=True)  # the file it came from

    @field_validator("slos", mode="before")
    @classmethod
    def _slo_strings(cls, v: Any) -> Any:
        return _parsed_strings(v, Slo.parse)

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        if not self.journeys:
            raise ValueError("journeys: define at least one journey")
        for name in self.traffic.mix:
            if name not in self.journeys:
                raise ValueError(
                    f"traffic.mix: names journey {name!r}, which is not in journeys "
                    f"({', '.join(self.journeys)})"
                )
        shape = self.traffic.shape
        if isinstance(shape, TraceShape):
            for column, journey in shape.columns.items():
                if journey not in self.journeys:
                    raise ValueError(
                        f"traffic.shape.columns: maps {column!r} to unknown journey {journey!r}"
                    )
        oidc = self.flows.oidc
        if oidc is not None:
            # a relative issuer follows the target, so `--target URL` moves both together
            for attr in ("issuer", "discovery_url"):
                value = getattr(oidc, attr)
                if value and value.startswith("/"):
                    setattr(oidc, attr, self.target.base_url + value)
            for attr in ("issuer", "discovery_url"):
                host = urlsplit(getattr(oidc, attr) or "").hostname
                if host and host not in self.target.allowed_hosts:
                    raise ValueError(
                        f"flows.oidc.{attr}: host {host!r} is not in target.allowed_hosts"
                    )
        needs_oidc = {
            "oidc_login",
            "oidc_logout",
            "token_refresh",
            "token_introspect",
            "token_revoke",
            "userinfo",
        }
        for name, config in self.journeys.items():
            used = needs_oidc.intersection(config.steps)
            if used and self.flows.oidc is None:
                raise ValueError(f"journeys.{name}.steps: {sorted(used)} need flows.oidc")
            if (
                "client_credentials" in config.steps
                and self.flows.tokens.client_credentials is None
            ):
                raise ValueError(
                    f"journeys.{name}.steps: client_credentials needs "
                    "flows.tokens.client_credentials"
                )
            if "password_grant" in config.steps:
                tokens = self.flows.tokens
                if tokens.password_client is None:
                    raise ValueError(
                        f"journeys.{name}.steps: password_grant needs flows.tokens.password_client"
                    )
                if self.flows.oidc is None and not tokens.token_url:
                    raise ValueError(
                        f"journeys.{name}.steps: password_grant needs flows.oidc (discovery) "
                        "or flows.tokens.token_url"
                    )
            device = self.flows.device
            if (
                "device_login" in config.steps
                and self.flows.oidc is None
                and not (device.client_id and device.authorization_endpoint and device.token_url)
            ):
                raise ValueError(
                    f"journeys.{name}.steps: device_login needs flows.oidc, or "
                    "flows.device.client_id, authorization_endpoint and token_url"
                )
            if "totp" in config.steps and self.accounts_of(name).totp_file is None:
                raise ValueError(
                    f"journeys.{name}.steps: totp needs credentials.totp_file, or the "
                    "journey's accounts.totp_file (a CSV: username,totp_secret)"
                )
            leave = config.abandon_after
            if leave is not None and leave not in (
                known := request_names(config.steps, self.flows)
            ):
                raise ValueError(
                    f"journeys.{name}.abandon_after: {leave!r} is not a request of this "
                    f"journey's steps ({', '.join(config.steps)}); known: {', '.join(known)}"
                )
        return self

    @model_validator(mode="after")
    def _population_fits(self) -> Scenario:
        population = self.population
        if population is None:
            return self
        check_sign_in(population, {n: list(c.steps) for n, c in self.journeys.items()})
        own = self.journeys[population.sign_in].accounts
        count = (own or self.credentials).count
        if population.size >= count:
            where = f"journeys.{population.sign_in}.accounts.count" if own else "credentials.count"
            raise ValueError(
                f"population.size {population.size}: every signed-in person holds an account "
                f"for the whole run; {where} ({count}) must leave some for the surge"
            )
        if self.traffic.model != "open":
            raise ValueError("population: needs the open model (traffic.model: open)")
        return self

    @model_validator(mode="after")
    def _abort_conditions(self) -> Scenario:
        """An abort condition that could never hold is refused: a step no journey requests
        (a typo would watch nothing), or a latency the requests' timeout never lets happen."""
        known = {n for c in self.journeys.values() for n in request_names(c.steps, self.flows)}
        for condition in self.run.abort_on:
            if condition.step != "*" and condition.step not in known:
                raise ValueError(
                    f"run.abort_on {condition.text!r}: no journey makes {condition.step!r} "
                    f"requests; known: {', '.join(sorted(known))}"
                )
            if condition.metric != "error_rate" and condition.above >= self.target.timeout_s * 1e3:
                raise ValueError(
                    f"run.abort_on {condition.text!r}: requests time out after "
                    f"target.timeout_s ({self.target.timeout_s:g} s), so no latency above it is "
                    "measured; a timeout is a failure: use error_rate"
                )
        return self

    def accounts_of(self, journey: str) -> AccountSet:
        """The accounts a journey's people sign in with: its own, else the scenario's."""
        config = self.journeys.get(journey)
        own = config.accounts if config is not None else None
        return own if own is not None else self.credentials

    def journey_mix(self) -> dict[str, float]:
        """Share of arrivals per journey, normalised; equal shares when no mix is given."""
        mix = self.traffic.mix or {name: 1.0 for name in self.journeys}
        total = sum(mix.values())
        if total <= 0:
            raise ScenarioError("traffic.mix: the shares add up to zero")
        return {name: share / total for name, share in mix.items() if share > 0}

    def resolve_path(self, path: Path) -> Path:
        """A path from the scenario, relative to the scenario file's folder."""
        if path.is_absolute() or self.source is None:
            return path
        return self.source.parent / path

    def public_dict(self) -> dict[str, Any]:
        """The resolved scenario as plain data, safe to store: secrets are never in it, only
        the names of the variables and files that hold them."""
        return self.model_dump(mode="json", exclude_none=True)
