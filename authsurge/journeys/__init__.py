"""Auth journeys: every login and logout path as configurable, composable step groups.

The runner's contract (docs/CONTRACTS.md): `build_journeys(scenario, secrets)` gives one
`Journey` per scenario journey; `journey.run(JourneyContext)` runs one attempt with a
fresh browser, fires Locust's `events.request` for every HTTP request (named by step,
with the record columns in `context`) and returns a `JourneyResult`.
"""

from __future__ import annotations

from authsurge.journeys.api import ApiCalls
from authsurge.journeys.client import HttpClient, HttpSettings, StepFailed
from authsurge.journeys.credentials import (
    Account,
    AccountPool,
    AccountPools,
    ScenarioSecrets,
    load_scenario_secrets,
)
from authsurge.journeys.form_login import FormLogin
from authsurge.journeys.journey import Journey, build_journeys, compose, person
from authsurge.journeys.logout import FormLogout, OidcLogout
from authsurge.journeys.oidc import OidcLogin, Provider, exchange_code
from authsurge.journeys.state import JourneyContext, JourneyResult, JourneyState
from authsurge.journeys.tokens import ClientCredentials, Introspect, Refresh, Revoke, Userinfo
from authsurge.journeys.user import JourneyUser

__all__ = [
    "Account",
    "AccountPool",
    "AccountPools",
    "ApiCalls",
    "ClientCredentials",
    "FormLogin",
    "FormLogout",
    "HttpClient",
    "HttpSettings",
    "Introspect",
    "Journey",
    "JourneyContext",
    "JourneyResult",
    "JourneyState",
    "JourneyUser",
    "OidcLogin",
    "OidcLogout",
    "Provider",
    "Refresh",
    "Revoke",
    "ScenarioSecrets",
    "StepFailed",
    "Userinfo",
    "build_journeys",
    "compose",
    "exchange_code",
    "load_scenario_secrets",
    "person",
]
