"""Generator-bound seconds in the analysis: which knees the client made, not the target.

The rule itself is `rule.py` beside this module (CPU > 90% of one core or loop lag > 50 ms,
sustained for 3 samples or 3 s, per load-generating worker). Here its spans become:

- the ``generator`` section of analysis.json: {sampled, bound_seconds: [[start, end], ...],
  bound_s, share_of_run, rule, per_worker: {<worker>: {...}}};
- ``knee.generator_bound`` per step and journey: true when a flagged second falls in a
  window of the curve point the knee is judged at (its first failing point, or the
  highest-load point when no knee was reached). A reached knee that is generator-bound
  is kept (offered, arrivals, reason) but its capacity becomes a lower bound (the target
  served at least that much) and its reason says "the client saturated first; add
  workers". The bottleneck's ``harness_warning`` is written from the same flag;
- the verdict: a limiting step judged while the generator was saturated makes the
  verdict "unknown", with "the client saturated first; add workers" instead of a
  capacity or a "rerun with a higher ramp".
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from authsurge.analysis.curves import Curves
from authsurge.analysis.knee import Knee
from authsurge.analysis.record_index import RecordIndex
from authsurge.analysis.selfcheck import rule
from authsurge.analysis.selfcheck.rule import GeneratorCheck
from authsurge.analysis.wording.figures import rate

CLIENT_FIRST = "the client saturated first; add workers"


def check(resources: pd.DataFrame | None) -> GeneratorCheck | None:
    if resources is None or resources.empty:
        return None
    return rule.check_samples(
        resources["t"].to_numpy(dtype=float),
        np.asarray(resources["source"], dtype=object),
        resources["cpu_percent"].to_numpy(dtype=float),
        resources["loop_lag_ms"].to_numpy(dtype=float),
    )


def window_mask(gen: GeneratorCheck | None, index: RecordIndex) -> np.ndarray:
    """bool per analysis window: true when a generator-bound span overlaps it."""
    mask = np.zeros(index.n_windows, dtype=bool)
    if gen is None:
        return mask
    for a, b in gen.spans:  # spans: a handful
        lo = max(0, int(math.floor((a - index.t0) / index.window_s)))
        hi = min(index.n_windows, int(math.ceil((b - index.t0) / index.window_s)))
        if hi > lo:
            mask[lo:hi] = True
    return mask


def judged_row(knee: Knee, points: pd.DataFrame) -> int | None:
    """The curve point a knee is judged at: its first failing point, else the highest load."""
    if points.empty:
        return None
    if knee.reached and knee.first_fail_point is not None:
        return knee.first_fail_point
    return int(np.nanargmax(points["offered_rps"].to_numpy(dtype=float)))


def mark_knee(name: str, knee: Knee, curves: Curves, index: RecordIndex, mask: np.ndarray) -> None:
    """Set knee.generator_bound; a bound reached knee keeps its load but not its capacity claim."""
    if not mask.any():
        return
    points = curves.of(name)
    row = judged_row(knee, points)
    if row is None:
        return
    windows = curves.membership[index.series_of(name)] == points["pid"].iloc[row]
    knee.generator_bound = bool((windows & mask).any())
    if knee.generator_bound and knee.reached:
        knee.capacity_is_lower_bound = True
        knee.reason = f"{CLIENT_FIRST} (measured: {knee.reason})"


def warning_text(knee: Knee, cpu: float, lag: float) -> str | None:
    """The bottleneck's harness_warning for a generator-bound knee (None when it is not)."""
    if not knee.generator_bound:
        return None
    figures = f"CPU {_fig(cpu, '%')}, loop lag {_fig(lag, ' ms')}"
    if knee.reached:
        return (
            f"load generator saturated at the knee ({figures}): {CLIENT_FIRST}; this knee is "
            "the harness's, not the target's capacity"
        )
    return (
        f"load generator saturated at the peak load ({figures}): the measured range ends at the "
        f"client's limit; add workers to measure further"
    )


def section(
    gen: GeneratorCheck | None, started: float | None, ended: float | None
) -> dict[str, Any]:
    """The analysis.json ``generator`` section."""
    if gen is None:
        return {
            "sampled": False,
            "bound_seconds": [],
            "bound_s": None,
            "share_of_run": None,
            "rule": rule.RULE,
            "per_worker": {},
        }
    spans = [
        (max(a, started) if started else a, min(b, ended) if ended else b) for a, b in gen.spans
    ]
    spans = [(a, b) for a, b in spans if b > a]
    bound = sum(b - a for a, b in spans)
    duration = ended - started if started and ended and ended > started else None
    return {
        "sampled": gen.sampled,
        "bound_seconds": [[a, b] for a, b in spans],
        "bound_s": round(bound, 3) if gen.sampled else None,
        "share_of_run": bound / duration if duration and gen.sampled else None,
        "rule": rule.RULE,
        "per_worker": {name: w.to_json() for name, w in gen.per_worker.items()},
    }


def run_warning(sec: dict[str, Any]) -> str | None:
    if not sec.get("bound_s"):
        return None
    share = sec.get("share_of_run")
    of_run = f" ({share * 100:.0f}% of the run)" if share is not None else ""
    return (
        f"the load generator was saturated for {sec['bound_s']:.0f} s{of_run}: {CLIENT_FIRST}; "
        "curve points in those seconds measure the client, not the target "
        "(see generator.bound_seconds)"
    )


def adjust_verdict(verdict: dict[str, Any], knees: dict[str, Knee]) -> dict[str, Any]:
    """Say the client saturated first when the verdict hangs on a generator-bound step."""
    step = verdict.get("limiting_step")
    # a journey cause is named "journey <name>"; its entry says which series it is
    series = ((verdict.get("steps") or {}).get(step) or {}).get("series", step) if step else None
    knee = knees.get(series) if series else None
    bound = bool(knee is not None and knee.generator_bound)
    verdict["generator_bound"] = bound
    if not bound or verdict.get("status") == "survives":
        return verdict  # a lower-bound capacity that already covers the peak still covers it
    entry = verdict["steps"][step]
    verdict["status"] = "unknown"
    verdict["text"] = (
        f"{CLIENT_FIRST}: {step} was measured while the load generator was saturated, "
        f"so the target's capacity is unknown (it served at least "
        f"{rate(entry['capacity'])} req/s; the surge peak needs "
        f"{rate(entry['peak_demand'])} req/s)"
    )
    return verdict


def _fig(x: float, unit: str) -> str:
    return f"{x:.0f}{unit}" if x is not None and math.isfinite(x) else "unknown"
