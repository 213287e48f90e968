"""Open-model arrival schedules: when each person arrives, fixed before the run starts.

The schedule is a pure function of the rate curves and a seed, so it is tested without a
clock, and every worker of a distributed run computes the same one and takes every
N-th arrival: the totals do not depend on the number of workers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from authsurge.scenario import Scenario, totp_reuse_warning
from authsurge.traffic.shapes import RateCurve


@dataclass(frozen=True)
class Arrival:
    t: float  # seconds after the run start
    journey: str


@dataclass(frozen=True)
class Plan:
    times: np.ndarray  # arrival offsets (s), sorted
    journeys: np.ndarray  # index into `names`
    names: list[str]

    @classmethod
    def empty(cls) -> Plan:
        """No planned arrivals (the closed model)."""
        return cls(np.empty(0), np.empty(0, dtype=np.int32), [])

    def __len__(self) -> int:
        return len(self.times)

    def __iter__(self) -> Iterator[Arrival]:
        names = self.names
        for t, j in zip(self.times.tolist(), self.journeys.tolist(), strict=True):
            yield Arrival(t, names[j])

    def slice_for(self, worker_index: int, worker_count: int) -> Plan:
        """Every worker_count-th arrival, starting at worker_index."""
        return Plan(
            self.times[worker_index::worker_count],
            self.journeys[worker_index::worker_count],
            self.names,
        )

    def head(self, n: int) -> Plan:
        return Plan(self.times[:n], self.journeys[:n], self.names)


def inverse_cumulative(
    curve: RateCurve, targets: np.ndarray, resolution: float = 1e-3
) -> np.ndarray:
    """Times at which the expected arrivals reach `targets` (numerical inverse on a grid)."""
    steps = int(min(max(curve.duration / resolution, 1000), 5_000_000))
    grid = np.linspace(0.0, curve.duration, steps + 1)
    cum = curve.cumulative(grid)
    # cum is non-decreasing; interpolate grid time over it (flat parts map to their start)
    keep = np.concatenate([[True], np.diff(cum) > 0])
    return np.interp(targets, cum[keep], grid[keep])


def arrivals(curve: RateCurve, kind: str, rng: np.random.Generator) -> np.ndarray:
    """Arrival offsets for one curve: a (non-homogeneous) Poisson process or evenly spaced."""
    total = curve.total()
    if total <= 0:
        return np.empty(0)
    if kind == "uniform":
        targets = np.arange(int(np.floor(total))) + 0.5
    else:
        # unit-rate Poisson points in cumulative space, mapped through the inverse: the
        # standard time-change construction of a non-homogeneous Poisson process
        n = int(total + 10 * np.sqrt(total) + 10)
        targets = np.cumsum(rng.exponential(1.0, size=n))
        targets = targets[targets < total]
    return inverse_cumulative(curve, targets)


def build_plan(
    curves: dict[str, RateCurve],
    kind: str = "poisson",
    seed: int = 1,
    max_journeys: int | None = None,
) -> Plan:
    """Merge every journey's arrivals into one sorted plan, cut at max_journeys."""
    rng = np.random.default_rng(seed)
    names = list(curves)
    parts = [arrivals(curves[name], kind, rng) for name in names]
    times = np.concatenate(parts) if parts else np.empty(0)
    journeys = (
        np.concatenate([np.full(len(p), i, dtype=np.int32) for i, p in enumerate(parts)])
        if parts
        else np.empty(0, dtype=np.int32)
    )
    order = np.argsort(times, kind="stable")
    plan = Plan(times[order], journeys[order], names)
    return plan.head(max_journeys) if max_journeys is not None else plan


def planned_rate_table(
    curves: dict[str, RateCurve], t0: float
) -> dict[str, list[float] | list[str]]:
    """Planned arrivals/s per journey for each second of the run (for schedule.parquet)."""
    ts: list[float] = []
    journeys: list[str] = []
    rates: list[float] = []
    for name, curve in curves.items():
        seconds = np.arange(int(np.ceil(curve.duration)))
        per_second = np.diff(
            curve.cumulative(np.append(seconds, seconds[-1] + 1 if len(seconds) else 0))
        )
        ts += (t0 + seconds).tolist()
        journeys += [name] * len(seconds)
        rates += per_second.tolist()
    return {"t": ts, "journey": journeys, "planned_rate": rates}


def plan_text(plan: Plan, peak_rate: float, duration_s: float, max_journeys: int) -> str:
    """The plan and its bounds in one line, said before a run starts (and by `validate`)."""
    cut = f", cut at run.max_journeys = {max_journeys}" if len(plan) >= max_journeys else ""
    return (
        f"about {len(plan)} arrivals over {duration_s:.0f} s (run.duration_s){cut}, "
        f"peak {peak_rate:.1f} arrivals/s"
    )


def totp_warning(scenario: Scenario, curves: dict[str, RateCurve]) -> str | None:
    """scenario.totp_reuse_warning for this plan's peaks, per set of accounts (the
    credentials', and each journey's own; a CSV of usernames is not counted here)."""
    sets: dict[str | None, list[str]] = {}
    for name, config in scenario.journeys.items():
        if "totp" in config.steps:
            sets.setdefault(name if config.accounts else None, []).append(name)
    peaks = {name: curve.peak() for name, curve in curves.items()}
    for key, journeys in sets.items():
        accounts = scenario.accounts_of(key or journeys[0])
        count = accounts.count if accounts.csv is None else None
        warning = totp_reuse_warning(journeys, peaks, count, scenario.flows.totp.period_s)
        if warning is not None:
            return warning
    return None
