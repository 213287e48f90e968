"""Scenario files: the pydantic schema, YAML loading, overrides and friendly errors.

- base: Strict, the base of every model (unknown keys are errors);
- model: Scenario and its sections (target, credentials, flow settings, step groups and
  journeys, SLOs, analysis, run bounds);
- forms: how a form is found and judged (FormSpec, SuccessRule);
- mail_flows: sign-up, its verification mail, sign-in by e-mailed code, the mailboxes;
- traffic: arrival-rate shapes, the open/closed model, retry behaviour;
- loading: load_scenario / parse_scenario, `--set` overrides, file:line error messages.
"""

from __future__ import annotations

from authsurge.scenario.app_flows import (
    JsonLoginSettings,
    JsonRule,
    TotpSettings,
    totp_reuse_warning,
)
from authsurge.scenario.base import Strict
from authsurge.scenario.device_flow import DeviceSettings, HumanDelay
from authsurge.scenario.loading import apply_override, load_scenario, parse_scenario
from authsurge.scenario.mail_flows import (
    MAIL_GROUPS,
    MAIL_WAIT_STEPS,
    EmailCodeSettings,
    MagicLinkSettings,
    MailSettings,
    MailSinkConfig,
    SignupSettings,
)
from authsurge.scenario.model import (
    AccountSet,
    AnalysisConfig,
    ApiEndpoint,
    ApiSettings,
    ClientConfig,
    CredentialsConfig,
    FlowSettings,
    FormLoginSettings,
    FormLogoutSettings,
    FormSpec,
    JourneyConfig,
    OidcSettings,
    RunBounds,
    Scenario,
    Slo,
    StepGroup,
    SuccessRule,
    TargetConfig,
    TokenSettings,
    request_names,
)
from authsurge.scenario.step_groups import STEP_GROUPS, STEP_REQUESTS
from authsurge.scenario.traffic import (
    Behaviour,
    ClosedModel,
    LinearRampShape,
    RetryBehaviour,
    Shape,
    SpikeShape,
    SteadyShape,
    StepRampShape,
    ThinkTime,
    TraceShape,
    TrafficConfig,
)

__all__ = [
    "STEP_GROUPS",
    "STEP_REQUESTS",
    "AnalysisConfig",
    "ApiEndpoint",
    "ApiSettings",
    "Behaviour",
    "ClientConfig",
    "ClosedModel",
    "AccountSet",
    "CredentialsConfig",
    "FlowSettings",
    "FormLoginSettings",
    "FormLogoutSettings",
    "FormSpec",
    "EmailCodeSettings",
    "MailSettings",
    "MailSinkConfig",
    "MagicLinkSettings",
    "MAIL_GROUPS",
    "MAIL_WAIT_STEPS",
    "SignupSettings",
    "DeviceSettings",
    "HumanDelay",
    "JourneyConfig",
    "JsonLoginSettings",
    "JsonRule",
    "TotpSettings",
    "totp_reuse_warning",
    "LinearRampShape",
    "OidcSettings",
    "RetryBehaviour",
    "RunBounds",
    "Scenario",
    "Shape",
    "Slo",
    "SpikeShape",
    "SteadyShape",
    "StepGroup",
    "StepRampShape",
    "Strict",
    "SuccessRule",
    "TargetConfig",
    "ThinkTime",
    "TokenSettings",
    "TraceShape",
    "TrafficConfig",
    "apply_override",
    "load_scenario",
    "parse_scenario",
    "request_names",
]
