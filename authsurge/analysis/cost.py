"""What each step costs the target: a resource's use attributed to the per-step request rates.

Model, per sample interval i of the resource (the time between two samples), inside the
run, before the surge first reaches a knee, and (for the target's CPU) not at a CPU
ceiling, where the target is not queueing:

    usage(i) = idle + sum over units u of cost_u x rate_u(i),   idle >= 0, cost_u >= 0

fitted by non-negative least squares (scipy.optimize.nnls). usage is the target's CPU in
CPU-ms per second (resources.parquet; 100% of one core = 1,000 CPU-ms/s) or the rate of a
scraped Prometheus counter (metrics.parquet); rate_u is requests per second served in the
same interval, each counted at its middle (start + latency / 2). The sample reports the use
since the previous one, so the counts must cover exactly that interval, or the costs
shrink.

Units: steps whose rates always move together cannot be separated (one journey type:
``login.form`` always comes just before ``login.submit``). Steps made by exactly the same
journeys, and steps whose rates correlate at COLLINEAR or more (journeys mixed at fixed
shares), are merged into one unit, fitted on their summed rate; its
cost is per request of the unit, and per journey when one journey makes all its requests.
To separate them the run needs a mix that varies on its own: people who open the login
page and leave (a journey with ``abandon_after: login.form``), a second journey type with
its own trace column, or the signed-in population's API calls.

Intervals: BOOTSTRAP_DRAWS resamples of the sample intervals (with replacement),
2.5th-97.5th percentile. Fit quality: R^2 of the fit and the number of intervals
(``samples``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import nnls

BOOTSTRAP_DRAWS = 200
COLLINEAR = 0.995  # rates correlating this much across samples cannot be told apart
DECISIVE = 0.95  # the top unit must use the most in this share of the bootstrap fits
MIN_WINDOWS = 10  # fewer usable sample intervals than this: no fit
_SEED = 20261130

SEPARATE_HINT = (
    "to separate them, run a mix that varies on its own: people who open the login page "
    "and leave (a journey with abandon_after: login.form), a second journey type with its "
    "own trace column, or API calls of people already signed in"
)


@dataclass(frozen=True)
class Resource:
    """One resource's use over its own sample intervals (start, end], in `unit` per second.

    The fit runs on these intervals, not on the analysis windows: a CPU sample reports the
    use since the previous sample, and counting requests over exactly that interval keeps a
    sampler out of phase with the windows from blurring (and shrinking) every cost."""

    name: str  # "target CPU", "prometheus:db_queries_total"
    unit: str  # "CPU-ms", "db_queries_total"
    start: np.ndarray  # epoch s
    end: np.ndarray
    usage: np.ndarray  # per second over (start, end]; NaN: unknown


@dataclass(frozen=True)
class Completions:
    """When each step's requests were served, and which journeys make them: counted up to
    every resource sample boundary (`edges`), so no request time is held."""

    edges: np.ndarray  # sorted epoch s: every start and end of every resource interval
    times: dict[str, np.ndarray]  # step -> requests whose middle is at or before each edge
    journeys_of: dict[str, list[str]]  # step -> journeys whose people make its requests
    arrivals: dict[str, np.ndarray]  # journey -> arrivals at or before each edge

    @classmethod
    def from_times(
        cls,
        edges: np.ndarray,
        times: dict[str, np.ndarray],
        journeys_of: dict[str, list[str]],
        arrivals: dict[str, np.ndarray],
    ) -> Completions:
        """From the times themselves (epoch s; a request's middle, a journey's start): what
        the engine counts from the shards (cost_counts), for times already in memory."""
        edges = np.sort(np.asarray(edges, dtype=np.float64))

        def up_to(t: np.ndarray) -> np.ndarray:
            return np.searchsorted(np.sort(np.asarray(t, dtype=np.float64)), edges, side="right")

        return cls(
            edges,
            {k: up_to(v) for k, v in times.items()},
            journeys_of,
            {k: up_to(v) for k, v in arrivals.items()},
        )

    def per_interval(self, counts: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Events per second in each interval (start, end]; start and end are edges."""
        if not len(start):
            return np.zeros(0)
        up_to_end = counts[np.searchsorted(self.edges, end)]
        up_to_start = counts[np.searchsorted(self.edges, start)]
        return (up_to_end - up_to_start) / np.maximum(end - start, 1e-9)


@dataclass(frozen=True)
class CostFit:
    """A cost model: its JSON document and the bootstrap fits behind its intervals."""

    doc: dict[str, Any]  # analysis.json's cost entry
    draws: np.ndarray | None = None  # [BOOTSTRAP_DRAWS, units]: cost per request per fit


def fit_costs(resource: Resource, completions: Completions, t_from: float, t_to: float) -> CostFit:
    """The cost model of one resource over its intervals inside [t_from, t_to]: the run,
    before any step's knee (module docstring)."""
    out: dict[str, Any] = {
        "resource": resource.name,
        "unit": resource.unit,
        "fitted": False,
        "note": "",
        "samples": 0,
        "span": [t_from, t_to],  # the time the fit may use (epoch s)
        "r2": None,
        "idle": None,
        "idle_interval": None,
        "units": [],
        "rule": None,
        "at_knee": None,  # set by model_at(): the requests' use at the first knee, by the model
    }
    use = (resource.start >= t_from) & (resource.end <= t_to) & np.isfinite(resource.usage)
    start, end = resource.start[use], resource.end[use]
    rates = {s: completions.per_interval(c, start, end) for s, c in completions.times.items()}
    names = [n for n, r in rates.items() if r.sum() > 0]
    n = int(use.sum())
    out["samples"] = n
    if n == 0:
        out["note"] = "no resource samples before the first knee (or none at all)"
        return CostFit(out)
    if not names:
        out["note"] = "no requests before the knees"
        return CostFit(out)
    if n < max(MIN_WINDOWS, len(names) + 2):
        out["note"] = f"too few resource samples before the knees to fit ({n})"
        return CostFit(out)
    x_all = np.column_stack([rates[s] for s in names])
    y = resource.usage[use]
    groups = _inseparable(x_all, names, completions.journeys_of)
    x = np.column_stack([x_all[:, [names.index(s) for s in g]].sum(axis=1) for g in groups])
    design = np.column_stack([np.ones(n), x])
    coef, _ = nnls(design, y)
    fitted = design @ coef
    total = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float(((y - fitted) ** 2).sum()) / total if total > 0 else None
    rng = np.random.default_rng(_SEED)
    draws = np.empty((BOOTSTRAP_DRAWS, design.shape[1]))
    for b in range(BOOTSTRAP_DRAWS):  # a few hundred small NNLS fits
        rows = rng.integers(0, n, n)
        draws[b], _ = nnls(design[rows], y[rows])
    low, high = np.percentile(draws, [2.5, 97.5], axis=0)
    units = []
    for u, group in enumerate(groups):
        journeys = sorted({j for s in group for j in completions.journeys_of.get(s, [])})
        entry: dict[str, Any] = {
            "steps": group,
            "separable": len(group) == 1,
            "cost_per_request": float(coef[u + 1]),
            "interval": [float(low[u + 1]), float(high[u + 1])],
            "journeys": journeys,
            "per_journey": None,
            "reason": None,
        }
        if len(journeys) == 1 and journeys[0] in completions.arrivals:
            seconds = end - start
            arrivals = float(
                (
                    completions.per_interval(completions.arrivals[journeys[0]], start, end)
                    * seconds
                ).sum()
            )
            if arrivals > 0:
                per_arrival = float((x[:, u] * seconds).sum()) / arrivals
                entry["per_journey"] = {
                    "journey": journeys[0],
                    "requests": per_arrival,
                    "cost": float(coef[u + 1]) * per_arrival,
                    "interval": [float(low[u + 1]) * per_arrival, float(high[u + 1]) * per_arrival],
                }
        if len(group) > 1:
            entry["reason"] = (
                f"{_names(group)} always come in fixed ratio (the same people of the same "
                f"journeys make them, or their rates correlate >= {COLLINEAR:g} across "
                "samples), so their costs cannot be separated; " + SEPARATE_HINT
            )
        units.append(entry)
    out.update(
        fitted=True,
        r2=r2,
        idle=float(coef[0]),
        idle_interval=[float(low[0]), float(high[0])],
        units=units,
        rule=(
            f"{resource.name} per sample interval = idle + sum of cost x requests/s served "
            f"per step (NNLS), over the intervals before the surge reaches a knee and off the "
            f"CPU ceiling; steps correlating >= "
            f"{COLLINEAR:g} merged; {BOOTSTRAP_DRAWS}-draw bootstrap of the intervals, 95% "
            "intervals"
        ),
    )
    return CostFit(out, draws[:, 1:])


def _inseparable(
    x: np.ndarray, names: list[str], journeys_of: dict[str, list[str]]
) -> list[list[str]]:
    """Steps merged into units: steps made by exactly the same journeys (each person of a
    journey makes a fixed number of each), and steps whose rates correlate >= COLLINEAR
    (a mix of journeys at fixed shares): the connected components of either relation."""
    k = len(names)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(x, rowvar=False) if k > 1 else np.ones((1, 1))
    corr = np.atleast_2d(corr)
    parent = list(range(k))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i in range(k):
        for j in range(i + 1, k):  # steps: a handful
            c = corr[i, j]
            same_people = bool(journeys_of.get(names[i])) and sorted(
                journeys_of.get(names[i], [])
            ) == sorted(journeys_of.get(names[j], []))
            # a constant column (NaN correlation) moves with nothing: it is its own unit
            if same_people or (math.isfinite(c) and abs(c) >= COLLINEAR):
                parent[root(j)] = root(i)
    groups: dict[int, list[str]] = {}
    for i, name in enumerate(names):
        groups.setdefault(root(i), []).append(name)
    return list(groups.values())


def shares_at(fit: CostFit | None, rates: dict[str, float]) -> list[dict[str, Any]]:
    """Each unit's share of the resource used by requests at the given step rates
    (req/s), largest first: cost x rate / the sum over units. The top entry's
    ``confidence`` is the share of the bootstrap fits in which it, too, uses the most."""
    if fit is None or not fit.doc.get("fitted") or fit.draws is None:
        return []
    units = fit.doc["units"]
    rate = np.array([sum(rates.get(s, 0.0) for s in u["steps"]) for u in units])
    usage = np.array([u["cost_per_request"] for u in units]) * rate
    total = float(usage.sum())
    if total <= 0:
        return []
    order = np.argsort(-usage, kind="stable")
    drawn = fit.draws * rate  # [draws, units]: each fit's usage per unit
    confidence = float((drawn.argmax(axis=1) == order[0]).mean())
    return [
        {
            "unit": units[i],
            "resource": fit.doc["resource"],
            "resource_unit": fit.doc["unit"],
            "rate": float(rate[i]),
            "usage": float(usage[i]),
            "share": float(usage[i] / total),
            "confidence": confidence if rank == 0 else None,
        }
        for rank, i in enumerate(order)
    ]


def model_at(fit: CostFit | None, rates: dict[str, float]) -> float | None:
    """What the requests use at these step rates (req/s) by the model: sum of cost x rate."""
    if fit is None or not fit.doc.get("fitted") or not rates:
        return None
    return float(
        sum(
            u["cost_per_request"] * sum(rates.get(s, 0.0) for s in u["steps"])
            for u in fit.doc["units"]
        )
    )


def decisive(shares: list[dict[str, Any]]) -> bool:
    """Does the top unit use the most in at least DECISIVE of the bootstrap fits? The fits'
    costs are correlated (what one step does not explain another must), so this is far
    sharper than comparing the units' separate intervals."""
    return len(shares) == 1 or (bool(shares) and shares[0]["confidence"] >= DECISIVE)


def _names(steps: list[str]) -> str:
    return ", ".join(steps[:-1]) + f" and {steps[-1]}" if len(steps) > 1 else steps[0]
