"""The generator-bound rule as a pure function of the samples: no clock, no processes."""

from __future__ import annotations

import numpy as np
import pytest

from authsurge.analysis import selfcheck


def samples(cpu, lag=None, source="harness:worker-0", t0=100.0, dt=1.0):
    n = len(cpu)
    lag = [1.0] * n if lag is None else lag
    return np.arange(n) * dt + t0, [source] * n, cpu, lag


@pytest.mark.parametrize(
    ("cpu", "lag", "spans"),
    [
        ([20, 30, 25, 30, 20], None, []),  # idle
        ([20, 99, 99, 20, 20], None, []),  # 2 s at 99%: a blip, not sustained
        ([20, 99, 99, 99, 20], None, [(100.0, 103.0)]),  # 3 samples: bound, covering (100, 103]
        ([20, 95, 98, 97, 99, 99], None, [(100.0, 105.0)]),  # to the end of the samples
        ([20, 90, 90, 90, 20], None, []),  # 90% is the limit, not over it
        ([20, 30, 30, 30, 20], [1, 80, 60, 51, 1], [(100.0, 103.0)]),  # loop lag alone
        ([20, 30, 30, 30, 20], [1, 80, 50, 80, 1], []),  # 50 ms is not over the limit
        ([99, 99, 20, 99, 99, 99, 99], None, [(102.0, 106.0)]),  # the first span is 2 samples
        ([30, 97, np.nan, 98, 99], [1, 1, 300, 1, 1], [(100.0, 104.0)]),  # NaN CPU, lag says so
    ],
)
def test_sustained_saturation(cpu, lag, spans):
    gen = selfcheck.check_samples(*samples(cpu, lag))
    assert gen.spans == spans
    assert gen.bound_s() == pytest.approx(sum(b - a for a, b in spans))
    assert gen.sampled


def test_a_stalled_sampler_covers_its_gap_up_to_five_seconds():
    # a starved loop samples rarely: 2 saturated samples 2.5 s apart cover 5 s: sustained
    t = [100.0, 101.0, 103.5, 106.0, 107.0]
    gen = selfcheck.check_samples(t, ["harness:w"] * 5, [20, 20, 99, 99, 20], [1] * 5)
    assert gen.spans == [(101.0, 106.0)]
    # a 20 s gap covers at most 5 s back
    t = [100.0, 120.0, 140.0]
    gen = selfcheck.check_samples(t, ["harness:w"] * 3, [20, 99, 20], [1] * 3)
    assert gen.spans == [(115.0, 120.0)]


def test_workers_are_judged_apart_and_merged_and_the_master_is_not_counted():
    t1, s1, c1, l1 = samples([99, 99, 99, 20, 20, 20], source="harness:worker-0")
    t2, s2, c2, l2 = samples([20, 20, 99, 99, 99, 20], source="harness:worker-1")
    t3, s3, c3, l3 = samples([99] * 6, source="harness:master")
    t4, s4, c4, l4 = samples([400] * 6, source="target")  # the target's CPU is not the harness's
    gen = selfcheck.check_samples(
        np.concatenate([t1, t2, t3, t4]), s1 + s2 + s3 + s4, c1 + c2 + c3 + c4, l1 + l2 + l3 + l4
    )
    assert gen.spans == [(99.0, 104.0)]  # worker-0 (99, 102] and worker-1 (101, 104], merged
    assert set(gen.per_worker) == {"worker-0", "worker-1", "master"}
    assert gen.per_worker["master"].spans and not gen.per_worker["master"].generates_load
    assert gen.per_worker["worker-1"].to_json()["bound_s"] == 3.0
    assert gen.bound_s(start=100.0, end=103.0) == 3.0  # clipped to the run


def test_no_harness_samples_means_unknown_not_clean():
    gen = selfcheck.check_samples([1.0, 2.0], ["target", "target"], [50, 50], [np.nan, np.nan])
    assert not gen.sampled and gen.spans == []
    gen = selfcheck.check_samples(*samples([99, 99, 99], source="harness:master"))
    assert not gen.sampled  # the master alone generates no load
