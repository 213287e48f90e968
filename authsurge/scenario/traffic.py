"""Traffic and behaviour: arrival-rate shapes, the open or closed model, retries.

The models only; authsurge.traffic turns them into rate curves and the arrival plan.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from authsurge.scenario.base import Strict

# --- traffic ----------------------------------------------------------------------------


class SteadyShape(Strict):
    kind: Literal["steady"]
    rate: Annotated[float, Field(ge=0)]  # arrivals/s
    duration_s: Annotated[float, Field(gt=0)] | None = None


class StepRampShape(Strict):
    kind: Literal["step_ramp"]
    start_rate: Annotated[float, Field(ge=0)]
    step_rate: Annotated[float, Field(gt=0)]
    step_s: Annotated[float, Field(gt=0)]  # hold each level this long
    steps: Annotated[int, Field(ge=1, le=1000)]


class LinearRampShape(Strict):
    kind: Literal["linear_ramp"]
    from_rate: Annotated[float, Field(ge=0)]
    to_rate: Annotated[float, Field(ge=0)]
    duration_s: Annotated[float, Field(gt=0)]


class SpikeShape(Strict):
    kind: Literal["spike"]
    baseline: Annotated[float, Field(ge=0)]  # arrivals/s before and after
    multiplier: Annotated[float, Field(ge=1)]  # surge peak = baseline * multiplier
    start_s: Annotated[float, Field(ge=0)] = 10.0
    rise_s: Annotated[float, Field(ge=0)] = 10.0
    hold_s: Annotated[float, Field(ge=0)] = 30.0
    decay_s: Annotated[float, Field(ge=0)] = 10.0
    tail_s: Annotated[float, Field(ge=0)] = 10.0


class TraceShape(Strict):
    kind: Literal["trace"]
    file: Path  # CSV: t_s plus one arrivals/s column per journey (relative to the scenario file)
    time_compression: Annotated[float, Field(gt=0)] = 1.0  # 60: one trace minute per second
    rate_scale: Annotated[float, Field(gt=0)] | Literal["auto"] = 1.0
    columns: dict[str, str] = Field(default_factory=dict)  # CSV column -> journey name
    auto_peak_multiple: Annotated[float, Field(gt=0)] = (
        2.0  # with rate_scale auto: peak = this x capacity
    )


Shape = Annotated[
    SteadyShape | StepRampShape | LinearRampShape | SpikeShape | TraceShape,
    Field(discriminator="kind"),
]


class ClosedModel(Strict):
    users: Annotated[int, Field(ge=1)]
    spawn_rate: Annotated[float, Field(gt=0)] = 10.0


class TrafficConfig(Strict):
    model: Literal["open", "closed"] = "open"
    shape: Shape | None = None  # open model: total arrivals/s over time
    mix: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)  # journey -> share
    arrivals: Literal["poisson", "uniform"] = "poisson"
    seed: int = 1
    max_concurrency: Annotated[int, Field(ge=1)] = 2000  # journeys in flight; more are dropped
    closed: ClosedModel | None = None

    @model_validator(mode="after")
    def _model_fits(self) -> TrafficConfig:
        if self.model == "open" and self.shape is None:
            raise ValueError("the open model needs traffic.shape")
        if self.model == "closed" and self.closed is None:
            raise ValueError("the closed model needs traffic.closed.users")
        return self


# --- behaviour --------------------------------------------------------------------------


class ThinkTime(Strict):
    kind: Literal["immediate", "fixed", "exponential"] = "exponential"
    base_s: Annotated[float, Field(ge=0)] = 1.0  # fixed wait, or the first backoff
    cap_s: Annotated[float, Field(ge=0)] = 30.0
    jitter: Annotated[float, Field(ge=0, le=1)] = 0.5  # +/- share of the wait


class Impatience(Strict):
    """People who retry at once (the "press Enter to retry" of a CLI, a tapped button):
    `share` of the people whose journey fails start it again, from its first request,
    `min_s`..`max_s` after the failure, whatever the think time and Retry-After say."""

    share: Annotated[float, Field(ge=0, le=1)] = 0.0
    min_s: Annotated[float, Field(ge=0)] = 1.0
    max_s: Annotated[float, Field(ge=0)] = 3.0

    @model_validator(mode="after")
    def _ordered(self) -> Impatience:
        if self.max_s < self.min_s:
            raise ValueError("behaviour.retry.impatient: max_s must be at least min_s")
        return self


class RetryBehaviour(Strict):
    share: Annotated[float, Field(ge=0, le=1)] = 0.0  # share of people who retry a failed journey
    max_attempts: Annotated[int, Field(ge=1, le=20)] = 3
    think: ThinkTime = Field(default_factory=ThinkTime)
    # a 429/503's Retry-After: honour it (wait at least that long, at most retry_after_cap_s)
    # or ignore it (browsers and many apps do)
    retry_after: Literal["honour", "ignore"] = "ignore"
    retry_after_cap_s: Annotated[float, Field(gt=0)] | None = None
    impatient: Impatience = Field(default_factory=Impatience)

    @model_validator(mode="after")
    def _shares(self) -> RetryBehaviour:
        if self.share + self.impatient.share > 1 + 1e-9:
            raise ValueError(
                f"behaviour.retry: share {self.share:g} and impatient.share "
                f"{self.impatient.share:g} add up to more than 1 (they are shares of the "
                "people whose journey fails: patient and impatient retriers)"
            )
        return self


class Behaviour(Strict):
    retry: RetryBehaviour = Field(default_factory=RetryBehaviour)
