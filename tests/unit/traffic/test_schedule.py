"""Arrival plans: deterministic for a seed, faithful to the curve, split exactly over workers."""

from __future__ import annotations

import numpy as np
import pytest

from authsurge.scenario import SpikeShape, SteadyShape, StepRampShape
from authsurge.traffic.schedule import build_plan, planned_rate_table
from authsurge.traffic.shapes import spike, steady, step_ramp


def test_uniform_arrivals_follow_each_step_ramp_level_exactly():
    curve = step_ramp(StepRampShape(kind="step_ramp", start_rate=5, step_rate=5, step_s=10, steps=3))
    plan = build_plan({"login": curve}, kind="uniform")
    counts = np.histogram(plan.times, bins=[0, 10, 20, 30])[0]
    assert counts.tolist() == [50, 100, 150]


def test_poisson_arrivals_match_the_planned_total_within_noise():
    curve = spike(SpikeShape(kind="spike", baseline=20, multiplier=10, start_s=10, rise_s=5, hold_s=20, decay_s=5, tail_s=10))
    plan = build_plan({"login": curve}, kind="poisson", seed=7)
    expected = curve.total()
    assert abs(len(plan) - expected) < 4 * np.sqrt(expected)
    # the surge window holds ~10x the baseline's arrivals per second
    base = np.sum(plan.times < 10) / 10
    peak = np.sum((plan.times >= 15) & (plan.times < 35)) / 20
    assert peak / base == pytest.approx(10, rel=0.2)


def test_same_seed_gives_the_same_plan_and_another_seed_another():
    curve = steady(SteadyShape(kind="steady", rate=50), duration=20)
    a = build_plan({"x": curve}, seed=1)
    b = build_plan({"x": curve}, seed=1)
    c = build_plan({"x": curve}, seed=2)
    assert np.array_equal(a.times, b.times)
    assert not np.array_equal(a.times[:10], c.times[:10])


def test_worker_slices_partition_the_plan_without_overlap():
    curves = {"web": steady(SteadyShape(kind="steady", rate=30), 10), "api": steady(SteadyShape(kind="steady", rate=10), 10)}
    plan = build_plan(curves, seed=3)
    slices = [plan.slice_for(i, 3) for i in range(3)]
    assert sum(len(s) for s in slices) == len(plan)
    merged = np.sort(np.concatenate([s.times for s in slices]))
    assert np.array_equal(merged, plan.times)
    assert max(len(s) for s in slices) - min(len(s) for s in slices) <= 1


def test_plan_mixes_journeys_in_proportion_and_is_sorted():
    curves = {"web": steady(SteadyShape(kind="steady", rate=30), 100), "api": steady(SteadyShape(kind="steady", rate=10), 100)}
    plan = build_plan(curves, kind="uniform")
    assert np.all(np.diff(plan.times) >= 0)
    names = [a.journey for a in plan]
    assert names.count("web") == 3000 and names.count("api") == 1000


def test_max_journeys_cuts_the_plan():
    plan = build_plan({"x": steady(SteadyShape(kind="steady", rate=100), 100)}, max_journeys=123)
    assert len(plan) == 123


def test_planned_rate_table_has_one_row_per_second_and_journey():
    curve = step_ramp(StepRampShape(kind="step_ramp", start_rate=2, step_rate=2, step_s=5, steps=2))
    table = planned_rate_table({"login": curve}, t0=1000.0)
    assert table["t"][0] == 1000.0 and len(table["t"]) == 10
    assert table["planned_rate"][2] == pytest.approx(2) and table["planned_rate"][7] == pytest.approx(4)
