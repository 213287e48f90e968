"""Which step of an inseparable unit carries its cost: the steps' unloaded response times.

When the same people make a journey's steps at a fixed ratio, the cost model cannot
separate their costs (authsurge.analysis.cost): it fits one cost for the unit. Below the
knees nothing queues, so a request's response time is its service time (the utilisation
law's service demand). The unit's cost is then apportioned by each step's time served
before the knees: its lowest curve-point p50 there x its requests there.

This assumes a step spends its unloaded time on the resource that saturated. A step that
waits on something else (a mail server, a sleep) would be over-charged, so the rule is
said wherever the answer uses it, and the cause names the step only when it dominates:
at least DOMINANT of the unit's time and at least RATIO x the next step's.
"""

from __future__ import annotations

import math
from typing import Any

from authsurge.analysis.curves import Curves
from authsurge.analysis.knee import MIN_POINT_REQUESTS

DOMINANT = 0.5
RATIO = 2.0
MIN_REQUESTS = MIN_POINT_REQUESTS  # per curve point: fewer is too thin, as for a knee
RULE = (
    "the unit's cost is apportioned by each step's time served before the knees (its lowest "
    f"curve-point p50 there, over points of at least {MIN_REQUESTS} requests, x its requests "
    "there): unloaded, a request's response time is its service time; this assumes the "
    "steps spend that time on the saturated resource. A step is named when it holds at "
    f"least {DOMINANT * 100:.0f}% and {RATIO:g}x the next step's share"
)


def unloaded_times(curves: Curves, steps: list[str], t_to: float) -> dict[str, dict[str, float]]:
    """Per step, its requests in the curve points that ended before t_to (epoch s) and
    their lowest p50 (ms) over those of at least MIN_REQUESTS requests; steps without such
    a point are left out."""
    out = {}
    for step in steps:
        points = curves.of(step)
        if points.empty or not math.isfinite(t_to):
            continue
        before = points[points["t_last"] <= t_to]
        p50 = before.loc[before["completed"] >= MIN_REQUESTS, "p50"].dropna()
        if p50.empty:
            continue
        out[step] = {"p50_ms": float(p50.min()), "requests": float(before["completed"].sum())}
    return out


def apportion(steps: list[str], unloaded: dict[str, dict[str, float]]) -> dict[str, Any] | None:
    """{step, shares: {step: share}, unloaded_ms: {step: ms}, rule} when one of `steps`
    dominates the unit's time served before the knees (module docstring); None when a
    step has no unloaded time or none dominates."""
    if len(steps) < 2 or any(s not in unloaded for s in steps):
        return None
    served = {s: unloaded[s]["p50_ms"] * unloaded[s]["requests"] for s in steps}
    total = sum(served.values())
    if total <= 0:
        return None
    shares = {s: served[s] / total for s in steps}
    ranked = sorted(steps, key=lambda s: -shares[s])
    top, second = shares[ranked[0]], shares[ranked[1]]
    if top < DOMINANT or top < RATIO * second:
        return None
    return {
        "step": ranked[0],
        "shares": shares,
        "unloaded_ms": {s: unloaded[s]["p50_ms"] for s in steps},
        "requests": {s: unloaded[s]["requests"] for s in steps},
        "rule": RULE,
    }
