"""Was the load generator the limit? The generator-bound rule, from the harness's own samples.

Every harness process samples itself about once a second into resources.parquet (source
``harness:<worker>``): its CPU (``cpu_percent``, 100 = one core busy) and its gevent loop
lag (``loop_lag_ms``, the worst delay of a greenlet that asked to sleep, since the last
sample). A load generator at its limit sends late and times its own queueing as the
target's latency, so a knee measured then is the client's, not the target's.

The rule (``RULE``):

- a sample is *saturated* when cpu_percent > 90 (90% of one core) or loop_lag_ms > 50;
- a sample covers the time since the previous sample of the same worker (at most
  ``MAX_COVER_S`` back; a worker's first sample covers the second before it), because
  both figures describe that interval;
- consecutive saturated samples of one worker make a span; a span is *sustained* when it
  holds at least 3 samples or lasts at least 3 s (a stalled sampler samples less often);
- the run is generator-bound during the union of the sustained spans of the workers that
  generate load: every harness source except ``harness:master``, which only collects
  records (its spans are reported, not counted).

This module needs only numpy: the runner records the samples (resources.parquet) and the
analysis judges them, mapping the spans onto its windows and knees
(`authsurge.analysis.selfcheck`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

CPU_PERCENT = 90.0  # of one core
LOOP_LAG_MS = 50.0
SUSTAINED_SAMPLES = 3
SUSTAINED_S = 3.0
MAX_COVER_S = 5.0
COLLECTOR_SOURCES = frozenset(("harness:master",))

RULE = (
    f"generator-bound: a harness worker's sample shows CPU > {CPU_PERCENT:g}% of one core or "
    f"gevent loop lag > {LOOP_LAG_MS:g} ms, sustained: at least {SUSTAINED_SAMPLES} consecutive "
    f"such samples or {SUSTAINED_S:g} s of them (each sample covers the time since the "
    "worker's previous one); the run is bound during the union of those spans over the "
    "load-generating workers (not the master)"
)

Span = tuple[float, float]


@dataclass
class WorkerCheck:
    """One harness source: its samples, worst figures and sustained saturated spans."""

    samples: int = 0
    saturated_samples: int = 0
    max_cpu_percent: float | None = None
    max_loop_lag_ms: float | None = None
    spans: list[Span] = field(default_factory=list)
    generates_load: bool = True

    @property
    def bound_s(self) -> float:
        return sum(b - a for a, b in self.spans)

    def to_json(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "saturated_samples": self.saturated_samples,
            "bound_s": round(self.bound_s, 3),
            "max_cpu_percent": self.max_cpu_percent,
            "max_loop_lag_ms": self.max_loop_lag_ms,
            "bound_seconds": [list(s) for s in self.spans],
            "generates_load": self.generates_load,
        }


@dataclass
class GeneratorCheck:
    """The run's generator-bound spans (epoch s) and the per-worker detail behind them."""

    spans: list[Span]
    per_worker: dict[str, WorkerCheck]

    @property
    def sampled(self) -> bool:
        """Whether any load-generating worker was sampled at all (else the check is unknown)."""
        return any(w.samples and w.generates_load for w in self.per_worker.values())

    def bound_s(self, start: float | None = None, end: float | None = None) -> float:
        """Seconds flagged, optionally clipped to [start, end]."""
        lo = -math.inf if start is None else start
        hi = math.inf if end is None else end
        return sum(max(0.0, min(b, hi) - max(a, lo)) for a, b in self.spans)


def check_samples(
    t: Sequence[float] | np.ndarray,
    source: Sequence[str] | np.ndarray,
    cpu_percent: Sequence[float] | np.ndarray,
    loop_lag_ms: Sequence[float] | np.ndarray,
) -> GeneratorCheck:
    """Apply the rule to resource samples (any order; non-harness sources are ignored)."""
    t = np.asarray(t, dtype=float)
    src = np.asarray(source, dtype=object).astype(str)
    cpu = np.asarray(cpu_percent, dtype=float)
    lag = np.asarray(loop_lag_ms, dtype=float)
    per_worker: dict[str, WorkerCheck] = {}
    for name in sorted(set(src[np.char.startswith(src.astype(str), "harness")])):
        mask = (src == name) & np.isfinite(t)
        order = np.argsort(t[mask], kind="stable")
        wt, wc, wl = t[mask][order], cpu[mask][order], lag[mask][order]
        check = WorkerCheck(samples=int(wt.size), generates_load=name not in COLLECTOR_SOURCES)
        if wt.size:
            hot = (np.nan_to_num(wc, nan=0.0) > CPU_PERCENT) | (
                np.nan_to_num(wl, nan=0.0) > LOOP_LAG_MS
            )
            check.saturated_samples = int(hot.sum())
            check.max_cpu_percent = _max(wc)
            check.max_loop_lag_ms = _max(wl)
            check.spans = _sustained_spans(wt, hot)
        per_worker[name.removeprefix("harness:")] = check
    spans = merge([s for w in per_worker.values() if w.generates_load for s in w.spans])
    return GeneratorCheck(spans, per_worker)


def _sustained_spans(t: np.ndarray, hot: np.ndarray) -> list[Span]:
    """Spans of consecutive saturated samples (sorted times) that are sustained."""
    prev = np.empty_like(t)
    prev[0] = t[0] - 1.0
    prev[1:] = t[:-1]
    start = np.maximum(prev, t - MAX_COVER_S)
    spans: list[Span] = []
    i, n = 0, t.size
    while i < n:  # samples: one a second per worker
        if not hot[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and hot[j + 1]:
            j += 1
        count, a, b = j - i + 1, float(start[i]), float(t[j])
        if count >= SUSTAINED_SAMPLES or b - a >= SUSTAINED_S:
            spans.append((a, b))
        i = j + 1
    return spans


def merge(spans: list[Span]) -> list[Span]:
    """The union of spans as sorted, disjoint spans."""
    out: list[Span] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _max(values: np.ndarray) -> float | None:
    finite = values[np.isfinite(values)]
    return round(float(finite.max()), 1) if finite.size else None
