"""Arrival-rate shapes: pure, vectorised functions of run time (seconds -> arrivals/s)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from authsurge.errors import ScenarioError
from authsurge.scenario import (
    LinearRampShape,
    Scenario,
    SpikeShape,
    SteadyShape,
    StepRampShape,
    TraceShape,
)
from authsurge.traffic.trace_file import Trace, load_trace


@dataclass(frozen=True)
class RateCurve:
    """Piecewise-linear arrivals/s over [0, duration]; `levels` are the plateaus, if any."""

    times: np.ndarray  # breakpoints (s), increasing, first 0
    rates: np.ndarray  # arrivals/s at each breakpoint, linear in between
    levels: list[tuple[float, float, float]] = field(default_factory=list)  # (start, end, rate)

    @property
    def duration(self) -> float:
        return float(self.times[-1])

    def rate(self, t: np.ndarray | float) -> np.ndarray:
        """Arrivals/s at run time t (0 outside [0, duration])."""
        t = np.asarray(t, dtype=float)
        inside = (t >= 0) & (t <= self.duration)
        return np.where(inside, np.interp(t, self.times, self.rates), 0.0)

    def cumulative(self, t: np.ndarray | float) -> np.ndarray:
        """Expected arrivals in [0, t] (the integral of rate), exact for piecewise-linear."""
        seg = np.concatenate(
            [[0.0], np.cumsum(np.diff(self.times) * (self.rates[1:] + self.rates[:-1]) / 2)]
        )
        t = np.clip(np.asarray(t, dtype=float), 0.0, self.duration)
        i = np.clip(np.searchsorted(self.times, t, side="right") - 1, 0, len(self.times) - 2)
        dt = t - self.times[i]
        width = self.times[i + 1] - self.times[i]
        slope = np.where(
            width > 0, (self.rates[i + 1] - self.rates[i]) / np.where(width > 0, width, 1), 0.0
        )
        return seg[i] + self.rates[i] * dt + slope * dt * dt / 2

    def total(self) -> float:
        return float(self.cumulative(self.duration))

    def peak(self) -> float:
        return float(self.rates.max()) if len(self.rates) else 0.0

    def scaled(self, factor: float) -> RateCurve:
        return RateCurve(
            self.times, self.rates * factor, [(a, b, r * factor) for a, b, r in self.levels]
        )

    def truncated(self, duration: float) -> RateCurve:
        """The same curve cut at `duration` (run bounds win over the shape)."""
        if duration >= self.duration:
            return self
        keep = self.times < duration
        times = np.append(self.times[keep], duration)
        rates = np.append(self.rates[keep], float(self.rate(duration)))
        levels = [(a, min(b, duration), r) for a, b, r in self.levels if a < duration]
        return RateCurve(times, rates, levels)


def steady(shape: SteadyShape, duration: float) -> RateCurve:
    d = shape.duration_s or duration
    return RateCurve(np.array([0.0, d]), np.array([shape.rate, shape.rate]), [(0.0, d, shape.rate)])


def step_ramp(shape: StepRampShape) -> RateCurve:
    times, rates, levels = [], [], []
    for i in range(shape.steps):
        start, end = i * shape.step_s, (i + 1) * shape.step_s
        rate = shape.start_rate + i * shape.step_rate
        # a vertical jump between levels: two breakpoints 1 ms apart
        times += [start, end - 1e-3]
        rates += [rate, rate]
        levels.append((start, end, rate))
    times[-1] = shape.steps * shape.step_s
    return RateCurve(np.array(times), np.array(rates), levels)


def linear_ramp(shape: LinearRampShape) -> RateCurve:
    return RateCurve(np.array([0.0, shape.duration_s]), np.array([shape.from_rate, shape.to_rate]))


def spike(shape: SpikeShape) -> RateCurve:
    """Baseline, rise to baseline x multiplier, hold, decay back to baseline, tail."""
    b, peak = shape.baseline, shape.baseline * shape.multiplier
    t1 = shape.start_s
    t2 = t1 + shape.rise_s
    t3 = t2 + shape.hold_s
    t4 = t3 + shape.decay_s
    t5 = t4 + shape.tail_s
    times = np.array([0.0, t1, max(t2, t1 + 1e-3), t3, max(t4, t3 + 1e-3), max(t5, t4 + 1e-3)])
    rates = np.array([b, b, peak, peak, b, b])
    levels = [(0.0, t1, b), (t2, t3, peak), (t4, t5, b)]
    return RateCurve(times, rates, [lv for lv in levels if lv[1] > lv[0]])


def from_trace(trace: Trace, column: str, shape: TraceShape, rate_scale: float) -> RateCurve:
    times = trace.t_s / shape.time_compression
    # compressing time by c packs c times the arrivals into each second: scale rates too,
    # so the replay keeps the trace's total number of arrivals (x rate_scale)
    rates = trace.columns[column] * shape.time_compression * rate_scale
    if times[0] > 0:
        times, rates = np.insert(times, 0, 0.0), np.insert(rates, 0, rates[0])
    return RateCurve(times, rates)


def curves_for(scenario: Scenario, rate_scale: float | None = None) -> dict[str, RateCurve]:
    """The arrival-rate curve of every journey, cut at the run's duration bound.

    `rate_scale` overrides a trace's `rate_scale` (used by calibration's "auto").
    """
    shape = scenario.traffic.shape
    duration = scenario.run.duration_s
    if shape is None:
        return {}
    if isinstance(shape, TraceShape):
        trace = load_trace(scenario.resolve_path(shape.file))
        scale = rate_scale if rate_scale is not None else shape.rate_scale
        if scale == "auto":
            raise ValueError("rate_scale 'auto' must be resolved by calibration before planning")
        mapping = shape.columns or {c: c for c in trace.columns}
        missing = [c for c in mapping if c not in trace.columns]
        if missing:
            raise ScenarioError(
                f"{shape.file}: trace has no column(s) {missing}; it has {list(trace.columns)}"
            )
        return {
            journey: from_trace(trace, column, shape, float(scale)).truncated(duration)
            for column, journey in mapping.items()
            if journey in scenario.journeys
        }
    if isinstance(shape, SteadyShape):
        total = steady(shape, duration)
    elif isinstance(shape, StepRampShape):
        total = step_ramp(shape)
    elif isinstance(shape, LinearRampShape):
        total = linear_ramp(shape)
    else:
        total = spike(shape)
    total = total.truncated(duration)
    return {name: total.scaled(share) for name, share in scenario.journey_mix().items()}
