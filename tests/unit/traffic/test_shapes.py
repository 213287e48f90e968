"""Shapes are pure functions of run time: checked without a clock."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from authsurge.scenario import LinearRampShape, SpikeShape, SteadyShape, StepRampShape
from authsurge.traffic.shapes import RateCurve, linear_ramp, spike, steady, step_ramp

rates = st.floats(min_value=0, max_value=500, allow_nan=False)
durations = st.floats(min_value=0.5, max_value=600, allow_nan=False)


def numeric_integral(curve: RateCurve) -> float:
    t = np.linspace(0, curve.duration, 200_001)
    return float(np.trapezoid(curve.rate(t), t))


@given(baseline=rates, multiplier=st.floats(1, 50), start=durations, rise=durations, hold=durations,
       decay=durations)
@settings(max_examples=60, deadline=None)
def test_spike_rate_is_never_negative_and_integral_matches_cumulative(baseline, multiplier, start, rise, hold, decay):
    curve = spike(SpikeShape(kind="spike", baseline=baseline, multiplier=multiplier, start_s=start,
                             rise_s=rise, hold_s=hold, decay_s=decay))
    t = np.linspace(-1, curve.duration + 1, 5001)
    assert (curve.rate(t) >= 0).all()
    assert curve.peak() == pytest.approx(baseline * multiplier)
    assert curve.total() == pytest.approx(numeric_integral(curve), rel=1e-3, abs=1e-2)


@given(start=rates, step=st.floats(0.1, 100), step_s=st.floats(1, 120), steps=st.integers(1, 20))
@settings(max_examples=60, deadline=None)
def test_step_ramp_holds_each_level_and_totals_the_planned_arrivals(start, step, step_s, steps):
    curve = step_ramp(StepRampShape(kind="step_ramp", start_rate=start, step_rate=step, step_s=step_s, steps=steps))
    planned = sum((start + i * step) * step_s for i in range(steps))
    assert curve.total() == pytest.approx(planned, rel=1e-3, abs=0.05 * (start + steps * step))
    assert len(curve.levels) == steps
    for i, (a, b, r) in enumerate(curve.levels):
        mid = (a + b) / 2
        assert float(curve.rate(mid)) == pytest.approx(r)
        assert r == pytest.approx(start + i * step)


@given(a=rates, b=rates, d=durations)
def test_linear_ramp_integral_is_the_trapezoid(a, b, d):
    curve = linear_ramp(LinearRampShape(kind="linear_ramp", from_rate=a, to_rate=b, duration_s=d))
    assert curve.total() == pytest.approx((a + b) / 2 * d, rel=1e-9, abs=1e-9)


def test_steady_rate_is_flat_and_zero_outside_the_run():
    curve = steady(SteadyShape(kind="steady", rate=7), duration=30)
    assert curve.rate([0, 10, 30]).tolist() == [7, 7, 7]
    assert curve.rate([-0.1, 30.1]).tolist() == [0, 0]
    assert curve.total() == pytest.approx(210)


def test_truncated_curve_stops_at_the_run_bound():
    curve = steady(SteadyShape(kind="steady", rate=10), duration=100).truncated(25)
    assert curve.duration == 25
    assert curve.total() == pytest.approx(250)
