"""Which steps fail first: knees ranked on one unit, with ties reported as ties.

The unit is the surge itself, journey arrivals/s in the same windows (``knee.arrivals``),
because steps see different request rates (one login, three API calls per journey) and,
in a sequential journey, a downstream step sees less offered load while queues grow
upstream, so "req/s offered to the step" cannot be compared across steps. Only runs
without journey rows rank by the step's own offered load.

A step without a judged curve point (too few requests at every level, e.g. a discovery
document fetched once per journey or cached) is *not judged*: it is listed last, with why,
and never changes the unit the others are ranked by.

Ties: each knee has an interval, the union of

- the ramp resolution: the surge of its last passing and first failing curve points (the
  data cannot place the knee more finely), and
- a bootstrap interval (BOOTSTRAP_DRAWS resamples of each point's windows, with
  replacement; goodput, offered load, errors and concurrency resampled, latency held at the
  point's value; the 5th to 95th percentile of the resampled knees).

Steps whose intervals overlap (single linkage, in knee order) cannot be ordered: they
*fail together*, share a rank, and the group is reported by the surge interval that holds
all their knees ("between 39 and 42 journeys/s").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from authsurge.analysis.curves import Curves
from authsurge.analysis.knee import Criterion, CurvePoints, Knee, find_knee, level_bracket
from authsurge.analysis.record_index import RecordIndex
from authsurge.analysis.resample import LATENCY_COLUMNS, WindowCounts, resampled_curves

BOOTSTRAP_DRAWS = 200
INTERVAL = (5.0, 95.0)  # percentiles of the resampled knees
RARE_PER_JOURNEY = 0.5  # fewer requests per journey arrival than this: cached or rare
_SEED = 20261130

ARRIVALS = "journey arrivals/s"
OFFERED = "req/s offered to the step"
TIE_RULE = (
    "knees whose intervals overlap cannot be ordered and fail together; a knee's interval "
    "is the union of the ramp resolution (surge at its last passing and first failing "
    f"points) and a {BOOTSTRAP_DRAWS}-draw bootstrap of the point windows "
    f"({INTERVAL[0]:g}th-{INTERVAL[1]:g}th percentile)"
)


@dataclass(frozen=True)
class StepKnee:
    """What the ranking needs of one step: its knee, the interval of it, why it is unjudged."""

    knee: Knee
    interval: tuple[float, float] | None = None  # in the ranking unit; None without a knee
    offered_interval: tuple[float, float] | None = None  # the same in req/s offered
    not_judged: str | None = None  # why the step has no judged point (None: judged)


def judged(knee: Knee) -> bool:
    """Did the step have at least one curve point to judge?"""
    return knee.reached or knee.capacity is not None


def not_judged_reason(knee: Knee, requests_per_journey: float | None) -> str | None:
    """Why a step without a judged point is not judged; None when it is judged."""
    if judged(knee):
        return None
    if requests_per_journey is not None and requests_per_journey < RARE_PER_JOURNEY:
        return (
            f"cached or rare: {requests_per_journey:.2g} requests per journey arrival, too "
            "few for any curve point to be judged"
        )
    return knee.reason


def knee_interval(
    series: str,
    knee: Knee,
    curves: Curves,
    windows: pd.DataFrame,
    index: RecordIndex,
    criteria: list[Criterion],
    rule: str,
) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """The knee's interval in journey arrivals/s and in req/s offered (module docstring)."""
    if not knee.reached:
        return None
    points = curves.of(series)
    bracket = (
        level_bracket(points, knee, "arrivals_rps"),
        level_bracket(points, knee, "offered_rps"),
    )
    boot = _bootstrap(series, points, curves, windows, index, criteria, rule)
    return _union(bracket[0], boot[0]), _union(bracket[1], boot[1])


def _union(a: tuple[float, float], b: tuple[float, float] | None) -> tuple[float, float]:
    if b is None or not all(math.isfinite(x) for x in b):
        return a
    return (min(a[0], b[0]), max(a[1], b[1]))


def _bootstrap(
    series: str,
    points: pd.DataFrame,
    curves: Curves,
    windows: pd.DataFrame,
    index: RecordIndex,
    criteria: list[Criterion],
    rule: str,
) -> tuple[tuple[float, float] | None, tuple[float, float] | None]:
    s = index.series_of(series)
    strata = [np.flatnonzero(curves.membership[s] == pid) for pid in points["pid"]]
    if not strata or any(m.size == 0 for m in strata):
        return None, None
    rng = np.random.default_rng(_SEED)
    draws = [rng.integers(0, m.size, (BOOTSTRAP_DRAWS, m.size)) for m in strata]
    # latency held at each point's value: a window bootstrap of goodput, load and errors
    held = CurvePoints.from_frame(points).metrics
    latency = {m: held[m] for m in LATENCY_COLUMNS}
    counts = WindowCounts.of_series(windows, index, series)
    knees_arr, knees_off = [], []
    for curve in resampled_curves(counts, strata, draws, latency):
        k = find_knee(curve, criteria, rule)
        if k.reached and k.offered is not None:
            knees_off.append(k.offered)
            knees_arr.append(k.arrivals if k.arrivals is not None else math.nan)

    def interval(values: list[float]) -> tuple[float, float] | None:
        v = np.asarray(values, dtype=float)
        v = v[np.isfinite(v)]
        if v.size < BOOTSTRAP_DRAWS // 2:  # most resamples found no knee: no interval
            return None
        lo, hi = np.percentile(v, INTERVAL)
        return float(lo), float(hi)

    return interval(knees_arr), interval(knees_off)


def first_to_fail(steps: dict[str, StepKnee]) -> list[dict[str, Any]]:
    """Steps ranked by the surge at which they fail; ties share a rank (module docstring)."""
    if not steps:
        return []
    knees = {n: s.knee for n, s in steps.items()}
    ranked_names = [n for n, s in steps.items() if s.not_judged is None]
    by_arrivals = bool(ranked_names) and all(
        (knees[n].arrivals is not None or not knees[n].reached)
        and math.isfinite(knees[n].max_arrivals)
        for n in ranked_names
    )
    unit = ARRIVALS if by_arrivals else OFFERED

    def knee_value(k: Knee) -> float:
        value = k.arrivals if by_arrivals else k.offered
        return value if value is not None else math.nan

    def interval(n: str) -> tuple[float, float]:
        s = steps[n]
        got = s.interval if by_arrivals else s.offered_interval
        v = knee_value(knees[n])
        return got if got is not None else (v, v)

    def healthy_up_to(k: Knee) -> float:
        return k.max_arrivals if by_arrivals else k.max_offered

    reached = sorted(
        (n for n in ranked_names if knees[n].reached), key=lambda n: (knee_value(knees[n]), n)
    )
    # steps measured over the same surge go by their own load: the busiest one last
    healthy = sorted(
        (n for n in ranked_names if not knees[n].reached),
        key=lambda n: (healthy_up_to(knees[n]), knees[n].max_offered, n),
    )
    unjudged = sorted(n for n, s in steps.items() if s.not_judged is not None)
    groups = _tie_groups(reached, interval)
    order = reached + healthy
    out = []
    rank = 0
    for position, name in enumerate(order):
        k = knees[name]
        group = groups.get(name)
        tied = [n for n in reached if groups.get(n) == group and n != name] if group else []
        if position == 0 or group is None or groups.get(order[position - 1]) != group:
            rank = position + 1
        value = knee_value(k) if k.reached else None
        entry: dict[str, Any] = {
            "rank": rank,
            "step": name,
            "judged": True,
            "not_judged_reason": None,
            "reached": k.reached,
            "rank_by": unit,
            "knee": value,
            "knee_interval": list(interval(name)) if k.reached else None,
            "knee_offered": k.offered,
            "capacity": k.capacity,
            "reason": k.reason,
            "healthy_up_to": None if k.reached else healthy_up_to(k),
            "fails_together_with": tied,
            "next": None,
            "margin_to_next": None,
            "margin_is_lower_bound": False,
            "generator_bound": k.generator_bound,
        }
        later = [n for n in order[position + 1 :] if n not in tied]
        if k.reached and later and value:
            nxt = knees[later[0]]
            entry["next"] = later[0]
            if nxt.reached:
                entry["margin_to_next"] = knee_value(nxt) / value
            else:
                entry["margin_to_next"] = healthy_up_to(nxt) / value
                entry["margin_is_lower_bound"] = True
        out.append(entry)
    for name in unjudged:
        k = knees[name]
        out.append(
            {
                "rank": None,
                "step": name,
                "judged": False,
                "not_judged_reason": steps[name].not_judged,
                "reached": False,
                "rank_by": unit,
                "knee": None,
                "knee_interval": None,
                "knee_offered": None,
                "capacity": None,
                "reason": k.reason,
                "healthy_up_to": None,
                "fails_together_with": [],
                "next": None,
                "margin_to_next": None,
                "margin_is_lower_bound": False,
                "generator_bound": k.generator_bound,
            }
        )
    return out


def _tie_groups(reached: list[str], interval: Any) -> dict[str, int]:
    """Group ids (1..) of steps whose knee intervals overlap, in knee order (single linkage)."""
    groups: dict[str, int] = {}
    group, reach = 0, -math.inf
    for name in reached:
        lo, hi = interval(name)
        if not lo < reach:  # no overlap with the group so far: a new group
            group += 1
            reach = hi
        else:
            reach = max(reach, hi)
        groups[name] = group
    return groups


def together(ranked: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first rank's entries: one step, or the steps that fail together with it."""
    if not ranked or not ranked[0]["reached"]:
        return ranked[:1]
    return [r for r in ranked if r["rank"] == ranked[0]["rank"]]


def group_interval(entries: list[dict[str, Any]]) -> tuple[float, float] | None:
    """The surge interval holding every knee of a tie group."""
    spans = [e["knee_interval"] for e in entries if e.get("knee_interval")]
    if not spans:
        return None
    return min(s[0] for s in spans), max(s[1] for s in spans)
