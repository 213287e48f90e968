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

A goodput shortfall needs evidence beyond the ratio (``shortfall_evidence``), because the
windows of a bin or level are picked by their offered load: the busiest seconds of a
Poisson stream have their completions spill into the next window, so a thin top bin of a
healthy step "falls short" by chance. The goodput criterion fails a point only when

- the shortfall, share x offered - goodput in requests, exceeds SHORTFALL_Z x sqrt(offered
  requests) (its Poisson sampling noise), and
- something corroborates it: errors (at least MIN_ERROR_SHARE of completed requests),
  rising latency (p50 at least LATENCY_RISE x the step's lowest judged p50), or queueing
  (time in flight by Little's law, concurrency / offered, at least LATENCY_RISE x its
  lowest).

The knee's offered load is interpolated linearly between the last passing point and the
first failing one, where that criterion's margin crosses zero; when several criteria
fail at the same point, the one that crosses at the lower load is the reason. A knee at
the very first point is reported at that point ("at or below the lowest measured load").

Capacity rule: when goodput saturates (reason: goodput), the peak sustained goodput: the
median goodput of the plateau, the judged points whose goodput reaches PLATEAU_SHARE of the
highest. A point is a whole steady level or a bin of several windows, so its goodput was
sustained over them; the median keeps one lucky point from setting it, and points after a
collapse (authsurge.analysis.collapse), or a step whose goodput peaked just before its
knee, cannot pull it down; when a latency or error threshold breaks first, the
goodput interpolated at the knee (what the step sustains within the threshold); when no
knee is reached, the highest steady goodput measured, a lower bound, and the knee is null
("not reached in the measured range").

Ranking the knees of several steps is authsurge.analysis.ranking's job.
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
SHORTFALL_Z = 1.645  # one-sided 95%: a goodput shortfall must exceed its Poisson noise
MIN_ERROR_SHARE = 0.01  # errors corroborate a shortfall from 1% of completed requests
LATENCY_RISE = 1.5  # latency or time in flight this many times its lowest: queueing
PLATEAU_SHARE = 0.9  # points within 10% of the best goodput are the plateau

# the per-point columns a criterion can judge, besides goodput
METRIC_COLUMNS = ("error_rate", "p50", "p90", "p95", "p99", "max", "concurrency")

CAPACITY_RULE = (
    "capacity: the peak sustained goodput when goodput saturates (the median goodput of "
    "the judged points that reach 90% of the highest); the goodput interpolated at the knee when a latency or error "
    "threshold breaks first; the highest steady goodput when no knee is reached "
    "(a lower bound)"
)


@dataclass(frozen=True)
class CurvePoints:
    """One step's curve as the knee rule reads it: one float array per column, curve order.

    The analysis builds it from its points table (``from_frame``); the bootstraps of the
    ranking and of compare build thousands of them from resampled windows
    (authsurge.analysis.resample); all go through the same find_knee.
    """

    offered_rps: np.ndarray
    arrivals_rps: np.ndarray
    goodput_rps: np.ndarray
    metrics: dict[str, np.ndarray]  # METRIC_COLUMNS (NaN where a curve lacks one)
    completed: np.ndarray | None = None  # None: every point counts as judged
    seconds: np.ndarray | None = None  # duration of each point; None: no noise test

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
            column("seconds") if "seconds" in frame else None,
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
            None if self.seconds is None else self.seconds[rows],
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
            # a shortfall the noise explains, or that nothing corroborates, is no failure
            margin = np.where(shortfall_evidence(points, self.threshold), margin, np.abs(margin))
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


def shortfall_evidence(points: CurvePoints, share: float) -> np.ndarray:
    """Per point: could a goodput shortfall there be real (module docstring)? Points without
    durations (callers that have no counts) are taken at their ratio."""
    n = len(points)
    if points.seconds is None:
        return np.ones(n, dtype=bool)
    offered_n = points.offered_rps * points.seconds
    shortfall_n = (share * points.offered_rps - points.goodput_rps) * points.seconds
    beyond_noise = shortfall_n > SHORTFALL_Z * np.sqrt(np.maximum(offered_n, 0.0))
    judged = (
        points.completed >= MIN_POINT_REQUESTS
        if points.completed is not None
        else np.ones(n, dtype=bool)
    )

    def risen(values: np.ndarray) -> np.ndarray:
        base = values[judged & np.isfinite(values) & (values > 0)]
        if not base.size:
            return np.zeros(n, dtype=bool)
        return np.nan_to_num(values, nan=0.0) >= LATENCY_RISE * base.min()

    with np.errstate(invalid="ignore", divide="ignore"):
        in_flight = points.metrics["concurrency"] / points.offered_rps
    errors = np.nan_to_num(points.metrics["error_rate"], nan=0.0) >= MIN_ERROR_SHARE
    corroborated = errors | risen(points.metrics["p50"]) | risen(in_flight)
    return beyond_noise & corroborated


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
        f"not judged; a goodput shortfall counts only beyond {SHORTFALL_Z:g} x sqrt(offered "
        f"requests) and with errors (>= {MIN_ERROR_SHARE * 100:g}%), or p50 or time in flight "
        f"risen {LATENCY_RISE:g}x"
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
        capacity = _plateau(goodput) if criterion.metric == "goodput" else goodput[0]
    else:
        knee_arrivals = arrivals[i - 1] + frac * (arrivals[i] - arrivals[i - 1])
        if criterion.metric == "goodput":
            capacity = _plateau(goodput)
        else:
            capacity = goodput[i - 1] + frac * (goodput[i] - goodput[i - 1])
    reason = criterion.reason
    if at_lowest:
        reason += " at or below the lowest measured load"
    return Knee(
        True,
        float(knee_offered),
        finite_or_none(knee_arrivals),
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


def _plateau(goodput: np.ndarray) -> float:
    """Peak sustained goodput of a curve's judged points (module docstring)."""
    top = np.nanmax(goodput)
    return float(np.nanmedian(goodput[goodput >= PLATEAU_SHARE * top]))


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


def level_bracket(points: pd.DataFrame, knee: Knee, column: str) -> tuple[float, float]:
    """`column` of the last passing and first failing curve points around a reached knee.

    The data cannot place the knee more finely than these two points (low, high); without a
    passing point (a knee at the lowest point) low is 0. The ranking (in journey arrivals/s
    and req/s offered) and the release comparison (req/s offered) both bracket knees here.
    """
    values = points[column].to_numpy(dtype=float)
    high = float(values[knee.first_fail_point]) if knee.first_fail_point is not None else math.nan
    low = float(values[knee.last_pass_point]) if knee.last_pass_point is not None else 0.0
    return (min(low, high), max(low, high))


def nothing_judged(ranked: list[dict[str, Any]]) -> bool:
    """No step had a curve point to judge (a run too short or too light for capacity)."""
    return bool(ranked) and all(not r["reached"] and r["capacity"] is None for r in ranked)


NOTHING_JUDGED = (
    f"too few requests at each load level to judge any step (a curve point needs "
    f"{MIN_POINT_REQUESTS} completed requests): run longer levels or more load"
)


def finite_or_none(x: float | None) -> float | None:
    """A float for JSON: None when missing, NaN or infinite."""
    return float(x) if x is not None and math.isfinite(x) else None
