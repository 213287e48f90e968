"""Knee and capacity of one step in two runs (the first rows of a step's comparison).

The knee is the offered load where the step stops coping (authsurge.analysis.knee), the
capacity the goodput it sustains there. Their intervals come from a stratified bootstrap:
the windows of each curve point are resampled within the point, the curve is rebuilt
(authsurge.analysis.resample) and the analysis's own find_knee is run again, in both runs
(resampled_knees). A knee change is only called better or worse when the two runs' level
brackets (knee_bracket) do not overlap: resampling windows cannot move the load levels.
"""

from __future__ import annotations

import math

import numpy as np

from authsurge.analysis.compare.model import (
    BETTER,
    QUANTILES,
    SAME,
    WORSE,
    CompareRule,
    Metric,
    join_notes,
)
from authsurge.analysis.compare.stats import (
    add_run_to_run,
    bootstrap,
    label,
    ratio,
    resampled_quantiles,
    subsample,
)
from authsurge.analysis.compare.step_data import StepData
from authsurge.analysis.knee import Knee, find_knee, level_bracket
from authsurge.analysis.resample import LATENCY_COLUMNS, resampled_curves


def _knee_value(knee: Knee) -> float | None:
    """The knee's offered load, or the load it was healthy up to (a lower bound)."""
    if knee.reached:
        return knee.offered
    return knee.max_offered if math.isfinite(knee.max_offered) else None


def compare_knees(
    base: StepData, cand: StepData, rule: CompareRule, rng: np.random.Generator
) -> tuple[Metric, Metric]:
    """The step's knee and capacity in both runs: change, bootstrap interval and label."""
    kb, kc = base.knee, cand.knee
    knee = Metric("knee", "req/s offered", _knee_value(kb), _knee_value(kc))
    capacity = Metric("capacity", "req/s", kb.capacity, kc.capacity)
    knee.change = ratio(knee.candidate, knee.base)
    capacity.change = ratio(capacity.candidate, capacity.base)
    if not kb.reached and not kc.reached:
        # both values are how far each ramp reached, not capacities: no change to state
        knee.change = capacity.change = None
        knee.note = capacity.note = (
            "no knee in either run: healthy up to the highest load "
            "measured in each (the ramp's reach, not a capacity)"
        )
        return knee, capacity
    strata_b = [base.point_windows(r) for r in range(len(base.points))]
    strata_c = [cand.point_windows(r) for r in range(len(cand.points))]
    if min(map(len, strata_b + strata_c), default=0) < 2:
        knee.note = capacity.note = "a curve point has fewer than 2 windows: no interval"
        return knee, capacity
    nb = len(strata_b)
    need_latency = any(
        c.metric in QUANTILES or c.metric == "max" for c in base.criteria + cand.criteria
    )
    samples_b = (
        [subsample(*base.records(w), rule.max_records, rng) for w in strata_b]
        if need_latency
        else None
    )
    samples_c = (
        [subsample(*cand.records(w), rule.max_records, rng) for w in strata_c]
        if need_latency
        else None
    )

    def statistic(*draws: np.ndarray, axis: int = -1) -> np.ndarray:
        db = [np.asarray(d, dtype=np.int64) for d in draws[:nb]]
        dc = [np.asarray(d, dtype=np.int64) for d in draws[nb:]]
        knees_b = resampled_knees(base, strata_b, db, samples_b)
        knees_c = resampled_knees(cand, strata_c, dc, samples_c)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.stack([knees_c[0] / knees_b[0] - 1, knees_c[1] / knees_b[1] - 1])

    data = tuple(np.arange(len(w)) for w in strata_b + strata_c)
    low, high = bootstrap(
        statistic, data, rule.confidence, rule.n_resamples_knee, rng, vectorized=True
    )
    for j, m in enumerate((knee, capacity)):
        m.ci_low, m.ci_high, m.confidence = low[j], high[j], rule.confidence
        add_run_to_run(m, rule.spread(m.name))
    bounds = []
    if not kb.reached:
        bounds.append("base has no knee: its healthy-up-to load stands in (a lower bound)")
    if not kc.reached:
        bounds.append("candidate has no knee: its healthy-up-to load stands in (a lower bound)")
    for m in (knee, capacity):
        m.note = join_notes(m.note, *bounds)
    # a lower bound can only show that a run is at least this good: never call it worse
    knee.label = label(knee, rule, higher_is_better=True)
    capacity.label = label(capacity, rule, higher_is_better=True)
    for m in (knee, capacity):
        if (m.label == WORSE and not kc.reached) or (m.label == BETTER and not kb.reached):
            m.label = SAME
            m.note = join_notes(m.note, "the bound cannot show this direction")
    # a knee the load generator made says nothing about the target (analysis.generator)
    for run, k in (("base", kb), ("candidate", kc)):
        if getattr(k, "generator_bound", False):
            for m in (knee, capacity):
                m.label = SAME
                m.note = join_notes(
                    m.note,
                    f"the {run} knee was judged while the load generator was "
                    "saturated: not a target capacity",
                )
    bb, bc = knee_bracket(base), knee_bracket(cand)
    if knee.label != SAME and bb[0] <= bc[1] and bc[0] <= bb[1]:
        # resampling windows cannot move the load levels: a knee is only known to lie between
        # its last passing and first failing level, and these brackets overlap
        knee.label = SAME
        knee.note = join_notes(
            knee.note,
            f"the knees' level brackets overlap (base {_span(bb)}, "
            f"candidate {_span(bc)} req/s): the load levels are too "
            "coarse to tell them apart",
        )
    return knee, capacity


def knee_bracket(data: StepData) -> tuple[float, float]:
    """Offered loads of the last passing and first failing curve points around the knee.

    Without a knee: [highest load measured, infinity). A knee at the lowest point: [0, it].
    """
    k = data.knee
    if not k.reached or k.first_fail_point is None:
        return (float(k.max_offered), math.inf)
    return level_bracket(data.points, k, "offered_rps")


def _span(bracket: tuple[float, float]) -> str:
    low, high = bracket
    return f"{low:.4g}+" if math.isinf(high) else f"{low:.4g}-{high:.4g}"


def resampled_knees(
    data: StepData,
    strata: list[np.ndarray],
    draws: list[np.ndarray],
    samples: list[tuple[np.ndarray, np.ndarray]] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Knee offered load and capacity of each resampled curve: [batch] arrays."""
    batch = np.atleast_2d(draws[0]).shape[0]
    lat = {m: np.full((batch, len(strata)), np.nan) for m in LATENCY_COLUMNS}
    if samples is not None:
        qs = [QUANTILES[m] for m in ("p50", "p90", "p95", "p99")] + [1.0]
        for p, (windows, d) in enumerate(zip(strata, draws, strict=True)):
            values = resampled_quantiles(samples[p], np.atleast_2d(d), len(windows), qs)
            for m, v in zip(LATENCY_COLUMNS, values, strict=True):
                lat[m][:, p] = v
    knee_out = np.full(batch, np.nan)
    cap_out = np.full(batch, np.nan)
    for b, curve in enumerate(resampled_curves(data.counts, strata, draws, lat)):
        k = find_knee(curve, data.criteria, data.rule)  # the analysis's own rule, not a copy
        value = _knee_value(k)
        knee_out[b] = value if value is not None else np.nan
        cap_out[b] = k.capacity if k.capacity is not None else np.nan
    return knee_out, cap_out
