"""The knee of a capacity curve, the capacity behind it, and which step fails first.

Knee rule: walk a step's curve points in order (load levels, or ascending offered load)
and stop at the first point that fails any criterion:

- goodput < goodput_share x offered (meta.analysis.goodput_share, default 0.9);
- p95 > knee_p95_ms (meta.analysis.knee_p95_ms, when set);
- an SLO that names the step (or matches it, e.g. ``*``) is breached at that point; an SLO
  with ``at offered <= X/s`` only judges points at or below X.

A point built from fewer than MIN_POINT_REQUESTS completed requests is too thin to judge
(a handful of Poisson arrivals in a short bin can fall 10% short by chance): it neither
passes nor fails. Such points still show on the curve.

The knee's offered load is interpolated linearly between the last passing point and the
first failing one, where that criterion's margin crosses zero; when several criteria
fail at the same point, the one that crosses at the lower load is the reason. A knee at
the very first point is reported at that point ("at or below the lowest measured load").

Capacity rule: when goodput saturates (reason: goodput), the median goodput of the points
at and after the knee (the plateau); when a latency or error threshold breaks first, the
goodput interpolated at the knee (what the step sustains within the threshold); when no
knee is reached, the highest steady goodput measured, a lower bound, and the knee is null
("not reached in the measured range").

first_to_fail ranks steps by the load at which they fail. Steps see different request
rates (one login, three API calls per journey), so the common unit is the surge itself:
journey arrivals/s in the same windows (``knee.arrivals``); runs without journey rows
rank by the step's own offered load. Steps with no knee come last, ordered by how far they
were measured healthy (then by their own offered load).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from typing import Any

import numpy as np
import pandas as pd

from authsurge.scenario import AnalysisConfig, Slo

MIN_POINT_REQUESTS = 30  # fewer completed requests than this: a point is too thin to judge

# the per-point columns a criterion can judge, besides goodput
METRIC_COLUMNS = ("error_rate", "p50", "p90", "p95", "p99", "max")

CAPACITY_RULE = (
    "capacity: median goodput of the points at and after the knee when goodput "
    "saturates; the goodput interpolated at the knee when a latency or error "
    "threshold breaks first; the highest steady goodput when no knee is reached "
    "(a lower bound)"
)


@dataclass(frozen=True)
class CurvePoints:
    """One step's curve as the knee rule reads it: one float array per column, curve order.

    The analysis builds it from its points table (``from_frame``) and the compare bootstrap
    builds thousands of them from resampled windows; both go through the same find_knee,
    so the two paths cannot drift apart.
    """

    offered_rps: np.ndarray
    arrivals_rps: np.ndarray
    goodput_rps: np.ndarray
    metrics: dict[str, np.ndarray]  # METRIC_COLUMNS (NaN where a curve lacks one)
    completed: np.ndarray | None = None  # None: every point counts as judged

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> CurvePoints:
        """From a points table (authsurge.analysis.curves); a missing column reads as NaN."""
        n = len(frame)

        def column(name: str) -> np.ndarray:
            if name in frame:
                return frame[name].to_numpy(dtype=float)
            return np.full(n, np.nan)

        return cls(
            column("offered_rps"),
            column("arrivals_rps"),
            column("goodput_rps"),
            {m: column(m) for m in METRIC_COLUMNS},
            frame["completed"].to_numpy(dtype=float) if "completed" in frame else None,
        )

    def __len__(self) -> int:
        return len(self.offered_rps)

    def take(self, rows: np.ndarray) -> CurvePoints:
        """The points at `rows`, in that order."""
        return CurvePoints(
            self.offered_rps[rows],
            self.arrivals_rps[rows],
            self.goodput_rps[rows],
            {m: v[rows] for m, v in self.metrics.items()},
            None if self.completed is None else self.completed[rows],
        )

    def column(self, metric: str) -> np.ndarray:
        if metric == "goodput":
            return self.goodput_rps
        return self.metrics[metric]


@dataclass(frozen=True)
class Criterion:
    """One pass/fail test of a curve point; margin >= 0 passes."""

    label: str  # "goodput < 90% of offered", "p95 > 800 ms"
    source: str  # "goodput_share", "knee_p95_ms", "SLO login.submit p95 < 800 ms"
    metric: str  # "goodput", "p50".."max", "error_rate"
    threshold: float
    at_offered_max: float | None = None

    def margins(self, points: CurvePoints) -> np.ndarray:
        offered = points.offered_rps
        if self.metric == "goodput":
            margin = points.goodput_rps - self.threshold * offered
        else:
            margin = self.threshold - points.column(self.metric)
        if self.at_offered_max is not None:
            margin = np.where(offered <= self.at_offered_max, margin, np.nan)
        return margin

    @property
    def reason(self) -> str:
        return (
            self.label
            if self.source in ("goodput_share", "knee_p95_ms")
            else f"{self.label} ({self.source})"
        )


def slo_text(slo: Slo) -> str:
    """An SLO as the scenario would write it: 'login.submit p95 < 800 ms at offered <= 100/s'."""
    if slo.metric == "error_rate":
        value = f"{slo.max * 100:g}%"
    else:
        value = f"{slo.max:g} ms"
    text = f"{slo.step} {slo.metric} < {value}"
    if slo.at_offered_max is not None:
        text += f" at offered <= {slo.at_offered_max:g}/s"
    return text


def slo_applies(slo: Slo, series: str) -> bool:
    return fnmatchcase(series, slo.step)


def criteria_for(series: str, config: AnalysisConfig, slos: list[Slo]) -> list[Criterion]:
    out = [
        Criterion(
            f"goodput < {config.goodput_share * 100:g}% of offered",
            "goodput_share",
            "goodput",
            config.goodput_share,
        )
    ]
    if config.knee_p95_ms is not None:
        out.append(
            Criterion(f"p95 > {config.knee_p95_ms:g} ms", "knee_p95_ms", "p95", config.knee_p95_ms)
        )
    for slo in slos:
        if not slo_applies(slo, series):
            continue
        label = (
            f"error rate > {slo.max * 100:g}%"
            if slo.metric == "error_rate"
            else f"{slo.metric} > {slo.max:g} ms"
        )
        out.append(
            Criterion(label, f"SLO {slo_text(slo)}", slo.metric, slo.max, slo.at_offered_max)
        )
    return out


def knee_rule(config: AnalysisConfig, slos: list[Slo]) -> str:
    parts = [f"goodput < {config.goodput_share * 100:g}% of offered"]
    if config.knee_p95_ms is not None:
        parts.append(f"p95 > {config.knee_p95_ms:g} ms")
    if slos:
        parts.append("an SLO on the step is breached")
    return (
        "knee: the first curve point where "
        + " or ".join(parts)
        + "; its offered load is interpolated linearly between the last passing and the "
        f"first failing point; points of fewer than {MIN_POINT_REQUESTS} completed requests are "
        "not judged"
    )


@dataclass
class Knee:
    """The knee of one step's curve (offered/arrivals None when not reached)."""

    reached: bool
    offered: float | None  # step req/s at the knee
    arrivals: float | None  # journey arrivals/s (the surge) at the knee; None without journeys
    capacity: float | None  # req/s of goodput the step sustains
    capacity_is_lower_bound: bool
    reason: str
    rule: str
    at_lowest_point: bool = False
    first_fail_point: int | None = None  # row in the step's points
    last_pass_point: int | None = None
    max_offered: float = math.nan  # highest offered load measured (req/s)
    max_arrivals: float = math.nan  # highest surge measured (arrivals/s)
    generator_bound: bool = (
        False  # judged while the load generator was saturated (analysis.generator)
    )

    def to_json(self) -> dict[str, Any]:
        return {
            "reached": self.reached,
            "offered": self.offered,
            "arrivals": self.arrivals,
            "capacity": self.capacity,
            "capacity_is_lower_bound": self.capacity_is_lower_bound,
            "reason": self.reason,
            "rule": self.rule,
            "capacity_rule": CAPACITY_RULE,
            "at_lowest_point": self.at_lowest_point,
            "max_offered": self.max_offered,
            "max_arrivals": self.max_arrivals,
            "generator_bound": self.generator_bound,
        }


def find_knee(points: CurvePoints, criteria: list[Criterion], rule: str) -> Knee:
    """Knee of one step's curve; points in curve order (see module docstring)."""
    if points.completed is not None:
        judged = np.flatnonzero(points.completed >= MIN_POINT_REQUESTS)
        if len(judged) == 0 and len(points):
            return _too_thin(points, rule)
        if len(judged) < len(points):
            # thin points are left out of the walk; indices are mapped back to `points`
            knee = find_knee(points.take(judged), criteria, rule)

            def back(i: int | None) -> int | None:
                return int(judged[i]) if i is not None else None

            return replace(
                knee,
                first_fail_point=back(knee.first_fail_point),
                last_pass_point=back(knee.last_pass_point),
            )
    if not len(points):
        return Knee(False, None, None, None, True, "no steady-state points to judge", rule)
    offered = points.offered_rps
    arrivals = points.arrivals_rps
    goodput = points.goodput_rps
    max_offered = float(np.nanmax(offered))
    max_arrivals = float(np.nanmax(arrivals)) if np.isfinite(arrivals).any() else math.nan
    margins = np.vstack([c.margins(points) for c in criteria])
    failing = np.nan_to_num(margins, nan=0.0) < 0
    fail_any = failing.any(axis=0)
    if not fail_any.any():
        return Knee(
            False,
            None,
            None,
            float(np.nanmax(goodput)),
            True,
            f"not reached in the measured range (up to {max_offered:,.4g} req/s offered)",
            rule,
            max_offered=max_offered,
            max_arrivals=max_arrivals,
        )
    i = int(np.argmax(fail_any))
    if i == 0:
        chosen = int(np.argmax(failing[:, 0]))
        frac, at_lowest = 0.0, True
        knee_offered = offered[0]
    else:
        best = (math.inf, 0, 0.0)
        for c in np.flatnonzero(failing[:, i]):  # criteria: a handful
            before = margins[c, i - 1]
            before = 0.0 if not np.isfinite(before) else before
            f = before / (before - margins[c, i]) if before > 0 else 0.0
            x = offered[i - 1] + f * (offered[i] - offered[i - 1])
            if x < best[0]:
                best = (x, int(c), f)
        knee_offered, chosen, frac = best
        at_lowest = False
    criterion = criteria[chosen]
    if i == 0:
        knee_arrivals = arrivals[0]
        capacity = float(np.median(goodput[i:])) if criterion.metric == "goodput" else goodput[0]
    else:
        knee_arrivals = arrivals[i - 1] + frac * (arrivals[i] - arrivals[i - 1])
        if criterion.metric == "goodput":
            capacity = float(np.median(goodput[i:]))
        else:
            capacity = goodput[i - 1] + frac * (goodput[i] - goodput[i - 1])
    reason = criterion.reason
    if at_lowest:
        reason += " at or below the lowest measured load"
    return Knee(
        True,
        float(knee_offered),
        _finite(knee_arrivals),
        float(capacity),
        False,
        reason,
        rule,
        at_lowest,
        i,
        i - 1 if i > 0 else None,
        max_offered,
        max_arrivals,
    )


def _too_thin(points: CurvePoints, rule: str) -> Knee:
    """No point holds enough requests to judge: no knee, no capacity, but the range is known."""
    max_offered = float(np.nanmax(points.offered_rps))
    arrivals = points.arrivals_rps
    return Knee(
        False,
        None,
        None,
        None,
        True,
        f"too few requests to judge (every curve point has fewer than {MIN_POINT_REQUESTS} "
        f"completed; up to {max_offered:,.4g} req/s offered)",
        rule,
        max_offered=max_offered,
        max_arrivals=float(np.nanmax(arrivals)) if np.isfinite(arrivals).any() else math.nan,
    )


def nothing_judged(ranked: list[dict[str, Any]]) -> bool:
    """No step had a curve point to judge (a run too short or too light for capacity)."""
    return bool(ranked) and all(not r["reached"] and r["capacity"] is None for r in ranked)


NOTHING_JUDGED = (
    f"too few requests at each load level to judge any step (a curve point needs "
    f"{MIN_POINT_REQUESTS} completed requests): run longer levels or more load"
)


def first_to_fail(knees: dict[str, Knee]) -> list[dict[str, Any]]:
    """Steps ranked by the surge load at which they fail, with the margin to the next one."""
    if not knees:
        return []
    by_arrivals = all(k.arrivals is not None for k in knees.values() if k.reached) and all(
        math.isfinite(k.max_arrivals) for k in knees.values()
    )
    unit = "journey arrivals/s" if by_arrivals else "req/s offered to the step"

    def knee_value(k: Knee) -> float | None:
        return k.arrivals if by_arrivals else k.offered

    def healthy_up_to(k: Knee) -> float:
        return k.max_arrivals if by_arrivals else k.max_offered

    reached = sorted(
        (n for n, k in knees.items() if k.reached), key=lambda n: (knee_value(knees[n]), n)
    )
    # ties (steps measured over the same surge) go by their own load: the busiest one last
    healthy = sorted(
        (n for n, k in knees.items() if not k.reached),
        key=lambda n: (healthy_up_to(knees[n]), knees[n].max_offered, n),
    )
    order = reached + healthy
    out = []
    for rank, name in enumerate(order, start=1):
        k = knees[name]
        value = knee_value(k) if k.reached else None
        entry: dict[str, Any] = {
            "rank": rank,
            "step": name,
            "reached": k.reached,
            "rank_by": unit,
            "knee": value,
            "knee_offered": k.offered,
            "capacity": k.capacity,
            "reason": k.reason,
            "healthy_up_to": None if k.reached else healthy_up_to(k),
            "next": None,
            "margin_to_next": None,
            "margin_is_lower_bound": False,
            "generator_bound": k.generator_bound,
        }
        if k.reached and rank < len(order) and value:
            nxt = knees[order[rank]]
            entry["next"] = order[rank]
            if nxt.reached:
                entry["margin_to_next"] = knee_value(nxt) / value  # type: ignore[operator]
            else:
                entry["margin_to_next"] = healthy_up_to(nxt) / value
                entry["margin_is_lower_bound"] = True
        out.append(entry)
    return out


def _finite(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None
