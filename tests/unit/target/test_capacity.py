"""`--login-capacity N`: a known login capacity that later analysis tests must find.

The slot arithmetic, checked with a fake clock (no sleeping); the real thing, ~2N logins/s
at a real two-worker target: tests/integration/target/test_capacity.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from authsurge.target.capacity import LoginCapacityExceeded, SlotLimiter, reset_slots
from authsurge.target.options import TargetOptions


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_slots_are_one_interval_apart_across_processes(tmp_path):
    path = tmp_path / "slots.bin"
    reset_slots(path)
    clock = FakeClock()
    # two limiters on one file stand for two gunicorn workers
    a, b = SlotLimiter(path, 10, 100, clock), SlotLimiter(path, 10, 100, clock)
    waits = [(a if i % 2 else b).reserve() for i in range(6)]
    assert waits == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4, 0.5])


def test_an_idle_limiter_adds_no_wait(tmp_path):
    path = tmp_path / "slots.bin"
    reset_slots(path)
    clock = FakeClock()
    limiter = SlotLimiter(path, 10, 5, clock)
    for _ in range(5):
        assert limiter.reserve() == 0.0
        clock.now += 0.2  # arrivals slower than the capacity


def test_a_full_queue_is_refused_at_once_and_takes_no_slot(tmp_path):
    path = tmp_path / "slots.bin"
    reset_slots(path)
    clock = FakeClock()
    limiter = SlotLimiter(path, 10, 3, clock)  # at most 3/10 = 0.3 s of waiting
    assert [limiter.reserve() for _ in range(4)] == pytest.approx([0.0, 0.1, 0.2, 0.3])
    with pytest.raises(LoginCapacityExceeded):
        limiter.reserve()
    clock.now += 0.1
    assert limiter.reserve() == pytest.approx(0.3)  # the refused check did not move the slots


def test_capacity_mode_adds_no_threads_so_waiting_checks_hold_real_ones():
    # a password check waiting for its slot holds a gthread thread, as in a real server: the
    # API starving behind them in the shared topology is the finding, not hidden by the target
    from authsurge.target.options import server_env

    opts = TargetOptions(login_capacity=20, workers=4, threads=2)
    assert server_env(opts, Path("/tmp/x"), 8000)["AUTHSURGE_TARGET_THREADS"] == "2"
