"""Which load levels of a step are compared, and the comparison at each (matched load).

Step-ramp runs are matched level by level (the same planned rate, within LEVEL_MATCH);
continuous shapes on common bins of the step's offered load (up to MAX_BINS). Each pair
becomes a Cell: a Level that is a matched load when the step's offered loads agree within
the rule's match tolerance, and judged unless the step is past its knee in both runs.
compare_level then compares goodput and latency p50 / p95 / p99 of one judged level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from authsurge.analysis.compare.model import (
    LATENCY_METRICS,
    NOT_JUDGED,
    QUANTILES,
    CompareRule,
    Level,
    Metric,
)
from authsurge.analysis.compare.stats import (
    add_run_to_run,
    bootstrap,
    label,
    latency_label,
    mann_whitney_p,
    ratio,
    resampled_quantiles,
    subsample,
)
from authsurge.analysis.compare.step_data import StepData

LEVEL_MATCH = 0.01  # planned level rates within 1% are the same level
MIN_WINDOWS = 3  # a level (or bin) needs this many steady windows in each run
MAX_BINS = 10


@dataclass
class Cell:
    """One level (or bin) of a step, with the windows it pools in each run."""

    level: Level
    base_windows: np.ndarray
    cand_windows: np.ndarray

    @property
    def judged(self) -> bool:
        return self.level.judged


def _cell(
    label: str,
    rate: float | None,
    base: StepData,
    cand: StepData,
    wb: np.ndarray,
    wc: np.ndarray,
    rule: CompareRule,
) -> Cell:
    ob = base.offered[wb].sum() / (len(wb) * base.window_s) if len(wb) else math.nan
    oc = cand.offered[wc].sum() / (len(wc) * cand.window_s) if len(wc) else math.nan
    level = Level(label, rate, float(ob), float(oc), matched=False, judged=False)
    if len(wb) < MIN_WINDOWS or len(wc) < MIN_WINDOWS:
        level.note = f"fewer than {MIN_WINDOWS} steady windows in a run"
    elif not (ob > 0 and oc > 0):
        level.note = "no load offered to this step in a run"
    elif abs(oc / ob - 1) > rule.match_tolerance:
        level.note = f"offered load differs by {oc / ob - 1:+.0%}: not a matched load"
    elif base.past_knee(wb) and cand.past_knee(wc):
        level.matched = True
        level.note = "past the knee in both runs: judged by the knee and capacity"
    else:
        level.matched = level.judged = True
    return Cell(level, wb, wc)


def matched_levels(base: StepData, cand: StepData, rule: CompareRule) -> list[Cell]:
    """Step-ramp levels with the same planned rate in both runs, in the base run's order."""
    out = []
    cand_rates = cand.points["level_rate"].to_numpy(dtype=float)
    used: set[int] = set()
    for row, rate in enumerate(base.points["level_rate"].to_numpy(dtype=float)):
        if not math.isfinite(rate):
            continue
        near = np.flatnonzero(np.abs(cand_rates - rate) <= LEVEL_MATCH * max(abs(rate), 1e-9))
        close = [int(c) for c in near if int(c) not in used]
        if not close:
            continue
        used.add(close[0])
        out.append(
            _cell(
                f"{rate:g}/s",
                float(rate),
                base,
                cand,
                base.point_windows(row),
                cand.point_windows(close[0]),
                rule,
            )
        )
    return out


def offered_bins(base: StepData, cand: StepData, rule: CompareRule) -> list[Cell]:
    """Continuous shapes: the windows each analysis used, re-binned on common offered-load edges."""
    wb, wc = base.used_windows(), cand.used_windows()
    if not len(wb) or not len(wc):
        return []
    ob, oc = base.offered[wb] / base.window_s, cand.offered[wc] / cand.window_s
    lo, hi = max(ob.min(), oc.min()), min(ob.max(), oc.max())
    if not hi > lo:
        return []
    edges = np.linspace(lo, hi, MAX_BINS + 1)
    # bin i holds [edge i, edge i+1); the last bin also its upper edge
    bin_b = np.minimum(np.searchsorted(edges, ob, side="right") - 1, MAX_BINS - 1)
    bin_c = np.minimum(np.searchsorted(edges, oc, side="right") - 1, MAX_BINS - 1)
    out = []
    for i in range(MAX_BINS):
        in_b = wb[(bin_b == i) & (ob <= hi)]
        in_c = wc[(bin_c == i) & (oc <= hi)]
        if len(in_b) >= MIN_WINDOWS and len(in_c) >= MIN_WINDOWS:
            out.append(
                _cell(
                    f"{edges[i]:.4g}-{edges[i + 1]:.4g} req/s", None, base, cand, in_b, in_c, rule
                )
            )
    return out


# --- matched-load metrics -------------------------------------------------------------


def compare_level(
    base: StepData,
    cand: StepData,
    wb: np.ndarray,
    wc: np.ndarray,
    confidence: float,
    rule: CompareRule,
    rng: np.random.Generator,
    *,
    latency_not_judged: str = "",
) -> dict[str, Metric]:
    """Goodput and latency percentiles of one matched level; latency_not_judged: why not."""
    lat_b, pos_b = base.records(wb)
    lat_c, pos_c = cand.records(wc)
    sub_b = subsample(lat_b, pos_b, rule.max_records, rng)
    sub_c = subsample(lat_c, pos_c, rule.max_records, rng)
    ok_b, off_b, ok_c, off_c = base.ok[wb], base.offered[wb], cand.ok[wc], cand.offered[wc]

    def statistic(ib: np.ndarray, ic: np.ndarray, axis: int = -1) -> np.ndarray:
        ib, ic = np.asarray(ib, dtype=np.int64), np.asarray(ic, dtype=np.int64)
        share_b = ok_b[ib].sum(axis=-1) / off_b[ib].sum(axis=-1)
        share_c = ok_c[ic].sum(axis=-1) / off_c[ic].sum(axis=-1)
        rows = [share_c / share_b - 1]
        qs = [QUANTILES[m] for m in LATENCY_METRICS]
        qb = resampled_quantiles(sub_b, ib, len(wb), qs)
        qc = resampled_quantiles(sub_c, ic, len(wc), qs)
        rows += [qc[j] / qb[j] - 1 for j in range(len(qs))]
        return np.stack(rows)

    low, high = bootstrap(
        statistic,
        (np.arange(len(wb)), np.arange(len(wc))),
        confidence,
        rule.n_resamples,
        rng,
        vectorized=True,
    )
    w_b, w_c = len(wb) * base.window_s, len(wc) * cand.window_s
    share_b, share_c = ok_b.sum() / off_b.sum(), ok_c.sum() / off_c.sum()
    out = {
        "goodput": Metric(
            "goodput",
            "req/s",
            float(ok_b.sum() / w_b),
            float(ok_c.sum() / w_c),
            ratio(share_c, share_b),
            low[0],
            high[0],
            confidence,
            note="compared as goodput / offered load of the same windows",
        )
    }
    add_run_to_run(out["goodput"], rule.spread("goodput"))
    out["goodput"].label = label(out["goodput"], rule, higher_is_better=True)
    p_value = mann_whitney_p(lat_c, lat_b)
    for j, metric in enumerate(LATENCY_METRICS, start=1):
        q = QUANTILES[metric]
        vb = float(np.quantile(lat_b, q)) if lat_b.size else None
        vc = float(np.quantile(lat_c, q)) if lat_c.size else None
        m = Metric(metric, "ms", vb, vc, ratio(vc, vb), low[j], high[j], confidence, p_value)
        m.label = latency_label(m, rule)
        if latency_not_judged:
            # e.g. past the knee latency is queueing: it swings with a few % of load, so it
            # is shown, and the change is judged by the knee, capacity and goodput instead
            m.label = NOT_JUDGED
            m.note = latency_not_judged
        out[metric] = m
    return out
