"""The comparison's statistics: bootstrap intervals, the rank test, labels, run-to-run widening.

- bootstrap: percentile interval of each output of a statistic (scipy.stats.bootstrap),
  windows being the resampling unit;
- mann_whitney_p: the Mann-Whitney U rank test that gates the latency labels;
- label / latency_label: better, worse or no detectable change by the rule in the
  package docstring (authsurge.analysis.compare);
- add_run_to_run / widen_for_run_to_run: intervals widened, on the log scale, by what
  differs between runs;
- subsample / resampled_quantiles: a level's records, and their quantiles in each
  resample of its windows.
"""

from __future__ import annotations

import inspect
import math
import warnings as _warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import stats

from authsurge.analysis.compare.model import (
    BETTER,
    NOT_JUDGED,
    SAME,
    WORSE,
    CompareRule,
    Metric,
    join_notes,
)


def bootstrap(
    statistic: Callable[..., np.ndarray],
    data: tuple[np.ndarray, ...],
    confidence: float,
    n_resamples: int,
    rng: np.random.Generator,
    *,
    vectorized: bool,
) -> tuple[list[float | None], list[float | None]]:
    """Percentile bootstrap interval of each output of `statistic` (None where undefined)."""
    with _warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        _warnings.simplefilter("ignore")  # degenerate samples give NaN, handled below
        res = stats.bootstrap(
            data,
            statistic,
            n_resamples=n_resamples,
            confidence_level=confidence,
            method="percentile",
            vectorized=vectorized,
            batch=250,
            **_rng_arg(rng),
        )
        dist = np.atleast_2d(res.bootstrap_distribution)
    lows: list[float | None] = []
    highs: list[float | None] = []
    alpha = (1 - confidence) / 2
    for row in dist:
        finite = row[np.isfinite(row)]
        if finite.size < 0.9 * row.size:  # too many undefined resamples to trust an interval
            lows.append(None)
            highs.append(None)
            continue
        lows.append(float(np.quantile(finite, alpha)))
        highs.append(float(np.quantile(finite, 1 - alpha)))
    return lows, highs


def _rng_arg(rng: np.random.Generator) -> dict[str, Any]:
    # scipy >= 1.15 calls it rng; older versions random_state
    name = "rng" if "rng" in inspect.signature(stats.bootstrap).parameters else "random_state"
    return {name: rng}


def ratio(candidate: float | None, base: float | None) -> float | None:
    if (
        candidate is None
        or base is None
        or not base
        or not math.isfinite(base)
        or not math.isfinite(candidate)
    ):
        return None
    return float(candidate / base - 1)


def label(m: Metric, rule: CompareRule, *, higher_is_better: bool, gate: bool = True) -> str:
    """better / worse / no detectable change by the rule in the module docstring."""
    if m.change is None or m.ci_low is None or m.ci_high is None or not gate:
        return SAME
    if m.ci_low > 0 and m.change >= rule.min_effect:
        return BETTER if higher_is_better else WORSE
    if m.ci_high < 0 and m.change <= -rule.min_effect:
        return WORSE if higher_is_better else BETTER
    return SAME


def mann_whitney_p(candidate: np.ndarray, base: np.ndarray) -> float | None:
    """Two-sided Mann-Whitney U p-value of two samples of latencies; None when one is empty."""
    if not (base.size and candidate.size):
        return None
    return float(
        stats.mannwhitneyu(candidate, base, alternative="two-sided", method="asymptotic").pvalue
    )


def _log_interval(m: Metric) -> tuple[float, float, float, float] | None:
    """(z, log change, log low, log high) of a metric's interval; None when it has none."""
    if (
        m.change is None
        or m.ci_low is None
        or m.ci_high is None
        or m.confidence is None
        or min(m.change, m.ci_low) <= -1  # log ratios need a ratio above 0
    ):
        return None
    z = float(stats.norm.ppf(0.5 + m.confidence / 2))
    return z, math.log1p(m.change), math.log1p(m.ci_low), math.log1p(m.ci_high)


def _widen(m: Metric, extra_variance: float, why: str) -> None:
    """Widen a metric's interval (on the log scale) by an extra variance, in place."""
    interval = _log_interval(m)
    if interval is None or extra_variance <= 0:
        return
    z, _, low, high = interval
    se = max((high - low) / (2 * z), 1e-6)  # a zero-width interval: a change with no noise
    grow = z * (math.sqrt(se**2 + extra_variance) - se)
    m.ci_low, m.ci_high = math.expm1(low - grow), math.expm1(high + grow)
    m.note = join_notes(m.note, f"interval widened by {why}")


def add_run_to_run(m: Metric, spread: float) -> None:
    """Widen one interval by the run-to-run spread of its quantity."""
    _widen(m, spread**2, f"the run-to-run spread {spread:.0%}")


def latency_label(m: Metric, rule: CompareRule) -> str:
    """better/worse/same for a latency percentile: its interval and the rank test agree."""
    gate = m.p_value is not None and m.confidence is not None and m.p_value < 1 - m.confidence
    return label(m, rule, higher_is_better=False, gate=gate)


def widen_for_run_to_run(cells: list[Metric], rule: CompareRule) -> None:
    """Widen a step's latency intervals by what differs between runs; relabel.

    A level's bootstrap resamples windows inside each run, so its interval knows nothing of
    what differs from one run to the next (the machine, the database's state, the caches).
    Two parts of that variation are modelled, on log ratios:

    - the shift of a whole run (one run 15% slower at every level): one run per side cannot
      see it, so its size is given (CompareRule.run_to_run, measured on replicated runs by
      `make bench-compare`) and added to every latency interval;
    - the scatter across a step's levels: with no real change, the levels' changes scatter
      by more than their intervals allow. A random-effects model (DerSimonian-Laird)
      estimates that extra variance (tau^2) from the spread and adds it too. A real change
      that moves every level alike leaves tau^2 near 0.

    Goodput is left alone: its change is zero before a knee and grows past it, so its
    levels differ by design, not by noise.
    """
    judged = [(m, iv) for m in cells if m.label != NOT_JUDGED and (iv := _log_interval(m))]
    if not judged:
        return
    z, d, lo, hi = (np.array([iv[k] for _, iv in judged]) for k in range(4))
    run = np.array([rule.spread(m.name) for m, _ in judged]) ** 2
    w = 1 / (np.maximum((hi - lo) / (2 * z), 1e-6) ** 2 + run)
    tau2 = 0.0
    if len(judged) >= 2:
        q = float(np.sum(w * (d - np.sum(w * d) / np.sum(w)) ** 2))
        scale = float(np.sum(w) - np.sum(w**2) / np.sum(w))
        tau2 = max(0.0, (q - (len(judged) - 1)) / scale) if scale > 0 else 0.0
    for (m, _), run_var in zip(judged, run, strict=True):
        parts = [f"the run-to-run spread {np.sqrt(run_var):.0%}"] if run_var > 0 else []
        if tau2 > 0:
            parts.append(f"the scatter across levels {np.sqrt(tau2):.0%}")
        if parts:
            _widen(m, float(run_var) + tau2, " and ".join(parts))
            m.label = latency_label(m, rule)


def subsample(
    lat: np.ndarray, pos: np.ndarray, limit: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """At most `limit` records, the same share from every window; sorted by latency."""
    if lat.size > limit:
        keep = np.sort(rng.choice(lat.size, size=limit, replace=False))
        lat, pos = lat[keep], pos[keep]
    order = np.argsort(lat, kind="stable")
    return lat[order], pos[order]


def resampled_quantiles(
    sample: tuple[np.ndarray, np.ndarray], draws: np.ndarray, n_windows: int, qs: list[float]
) -> list[np.ndarray]:
    """Quantiles of the records of the drawn windows (a window drawn twice counts twice).

    Linear interpolation on the pooled sample, as numpy's default (and the analysis) does:
    with every window drawn once this is np.quantile of the records.
    """
    values, pos = sample
    draws = np.atleast_2d(draws)
    batch = draws.shape[0]
    if values.size == 0:
        return [np.full(batch, np.nan) for _ in qs]
    rows = np.repeat(np.arange(batch) * n_windows, draws.shape[1])
    counts = np.bincount(rows + draws.ravel(), minlength=batch * n_windows).reshape(
        batch, n_windows
    )
    weights = counts[:, pos]  # [batch, records]: how often each record is in the resample
    cum = np.cumsum(weights, axis=1)
    total = cum[:, -1]
    # one searchsorted for all rows: shift row b by b * (max total + 1), keeping rows apart
    shift = (np.arange(batch) * (total.max() + 1))[:, None]
    flat = (cum + shift).ravel()
    n = values.size
    out = []
    for q in qs:
        h = q * np.maximum(total - 1, 0)
        k = np.floor(h)
        frac = h - k
        lo = np.searchsorted(flat, k + shift[:, 0], side="right") - np.arange(batch) * n
        hi = (
            np.searchsorted(
                flat, np.minimum(k + 1, np.maximum(total - 1, 0)) + shift[:, 0], side="right"
            )
            - np.arange(batch) * n
        )
        lo, hi = np.clip(lo, 0, n - 1), np.clip(hi, 0, n - 1)
        value = values[lo] + frac * (values[hi] - values[lo])
        out.append(np.where(total > 0, value, np.nan))
    return out
