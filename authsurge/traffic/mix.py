"""A scenario's surge as a mix: each journey's planned arrivals/s at the peak second, and
each journey's request steps (what `authsurge plan` predicts for; nothing is run)."""

from __future__ import annotations

from dataclasses import dataclass

from authsurge.errors import BadInput
from authsurge.scenario import Scenario, request_names
from authsurge.traffic.schedule import planned_rate_table
from authsurge.traffic.shapes import curves_for


@dataclass(frozen=True)
class PeakMix:
    rates: dict[str, float]  # journey -> planned arrivals/s in the busiest second
    steps: dict[str, list[str]]  # journey -> its request steps (cut at abandon_after)


def peak_mix(scenario: Scenario, scaled: bool = False) -> PeakMix:
    """The planned arrivals of each journey in the second with the most arrivals in all.

    A trace whose rate_scale is auto (set by a calibration before a run) has no rate of its
    own: it is read at scale 1, for its shares, and only when the caller states the peak or
    a scale (`scaled`); otherwise BadInput."""
    auto = getattr(scenario.traffic.shape, "rate_scale", None) == "auto"
    if auto and not scaled:
        raise BadInput(
            f"{scenario.source or scenario.name}: its trace's rate_scale is auto (set by a "
            "calibration): give --peak or --rate-scale"
        )
    table = planned_rate_table(curves_for(scenario, 1.0 if auto else None), 0.0)
    per_second: dict[float, dict[str, float]] = {}
    for t, journey, rate in zip(table["t"], table["journey"], table["planned_rate"], strict=True):
        per_second.setdefault(float(t), {})[str(journey)] = float(rate)  # type: ignore[arg-type]
    busiest = max(per_second.values(), key=lambda r: sum(r.values()), default={})
    steps = {}
    for name, journey in scenario.journeys.items():
        names = request_names(journey.steps, scenario.flows)
        if journey.abandon_after in names:
            names = names[: names.index(journey.abandon_after) + 1]
        steps[name] = names
    return PeakMix({j: r for j, r in busiest.items() if r > 0}, steps)
