"""population: people who are already signed in when the surge starts, and use the API.

Real outages turn on them: sign-in falls over while the API of people already signed in
stays up, and their sessions and tokens expire, refresh and sign in again during the
surge. A warm-up signs `size` people in through the `sign_in` journey before the run's
clock starts (at `warmup.rate` a second, over at most `warmup.seconds`); each then calls
the API at `api_rate` a second (Poisson per person) until the run ends, refreshing an
expiring access token, and signs in again after a 401 (`on_401: relogin`) or leaves
(`give_up`). With `join_share`, that share of the surge's people who signed in stay
signed in and join them. The runtime is authsurge.population.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from authsurge.scenario.base import Strict

SIGN_IN_GROUPS = (
    "form_login",
    "oidc_login",
    "json_login",
    "password_grant",
    "totp",
    "device_login",
)
# a population member stays signed in: no step that ends the session or drops the token
LEAVING_GROUPS = ("form_logout", "oidc_logout", "token_revoke")


class Warmup(Strict):
    rate: Annotated[float, Field(gt=0)] = 10.0  # sign-ins a second, over all workers
    seconds: Annotated[float, Field(gt=0, le=3600)] = 30.0  # the longest the warm-up may take


class PopulationConfig(Strict):
    size: Annotated[int, Field(ge=1, le=1_000_000)]
    sign_in: str  # the journey that signs a person in (warm-up and every re-login)
    warmup: Warmup = Field(default_factory=Warmup)
    api_rate: Annotated[float, Field(gt=0, le=100)] = 0.2  # API calls a second per person
    # re-sign in after this long signed in (an app's own session limit); None: only when
    # the target says 401
    session_lifetime_s: Annotated[float, Field(gt=0)] | None = None
    # refresh the access token after this long; None: from the token response's expires_in
    token_lifetime_s: Annotated[float, Field(gt=0)] | None = None
    on_401: Literal["relogin", "give_up"] = "relogin"
    # the share of the surge's successful sign-ins whose people stay signed in (no logout)
    # and join the population: its API load then follows the sign-ins
    join_share: Annotated[float, Field(ge=0, le=1)] = 0.0

    @model_validator(mode="after")
    def _warmup_bounded(self) -> PopulationConfig:
        most = self.warmup.rate * self.warmup.seconds
        if self.size > most:
            raise ValueError(
                f"population.size {self.size} cannot sign in during the warm-up: at "
                f"warmup.rate {self.warmup.rate:g}/s over warmup.seconds "
                f"{self.warmup.seconds:g} at most {most:g} people do; raise one of them"
            )
        return self

    @property
    def warmup_s(self) -> float:
        """How long the warm-up takes: size / rate (the run's clock starts after it)."""
        return self.size / self.warmup.rate


def check_sign_in(population: PopulationConfig, journeys: dict[str, list[str]]) -> None:
    """The sign-in journey exists, signs in, and does not sign out (ValueError if not).

    journeys: each journey's step groups."""
    steps = journeys.get(population.sign_in)
    if steps is None:
        raise ValueError(
            f"population.sign_in: names journey {population.sign_in!r}, which is not in "
            f"journeys ({', '.join(journeys)})"
        )
    if not any(g in SIGN_IN_GROUPS for g in steps):
        raise ValueError(
            f"population.sign_in: journey {population.sign_in!r} does not sign in (it needs "
            f"one of {', '.join(SIGN_IN_GROUPS)})"
        )
    leaving = [g for g in steps if g in LEAVING_GROUPS]
    if leaving:
        raise ValueError(
            f"population.sign_in: journey {population.sign_in!r} signs out again "
            f"({', '.join(leaving)}); a signed-in person must stay signed in"
        )
