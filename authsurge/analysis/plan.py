"""What another mix or a bigger surge would do, predicted from one run's analysis: nothing
is run.

The model is the run's own, read from analysis.json:

- what each step costs the target's CPU (the cost model, authsurge.analysis.cost; an
  inseparable unit's cost per request applies to each of its steps, so the prediction
  assumes they keep their ratio);
- how many requests of each step one arrival of each journey makes (the verdict's
  requests per arrival; one per request step for a journey the run did not make);
- the CPU the target had for requests: at the run's CPU-bound knee, the target CPU
  measured there minus the idle term, with the model's costs brought to the CPU measured
  just below that knee (authsurge.analysis.sizing.calibration); without one, all the
  target's cores (stated).

For a mix (each journey's share of the arrivals at the peak):

    CPU per arrival    c = sum over steps of (requests per arrival x CPU-ms per request)
    knee (journeys/s)  K = CPU for requests / c     (every step on the CPU fails there)

A step whose knee the run measured with no saturated CPU behind it (a rate limit, a lock)
keeps its capacity in req/s: its knee is that capacity over its requests per arrival. The
first to fail is the lowest knee; on the CPU the cause is the step that uses the most of
it. The surge's needs: its peak over the first knee, and the vCPUs its CPU takes
(authsurge.analysis.sizing's rule, the same arithmetic).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from authsurge.analysis.sizing import (
    CPU_KINDS,
    DEFAULT_HEADROOM,
    calibration,
    cpu_fit,
    reference_text,
)
from authsurge.errors import BadInput

RULE = (
    "knee (journeys/s) = target CPU for requests / CPU-ms per arrival of the mix; CPU for "
    "requests = target CPU at the run's CPU-bound knee minus idle (else all its cores); a "
    "step limited by something else keeps its measured capacity (req/s)"
)


@dataclass(frozen=True)
class Mix:
    """The surge to predict: each journey's planned arrivals/s at the peak, and the
    request steps of each journey (for journeys the run did not make)."""

    rates: dict[str, float]
    steps: dict[str, list[str]] = field(default_factory=dict)
    source: str = "the run's own mix"


def run_mix(doc: dict[str, Any]) -> Mix:
    """The run's own planned mix at its peak (the verdict's per-journey planned peaks)."""
    rates = (
        (doc["verdict"].get("journeys") or {})
        if doc["verdict"].get("demand_basis") == "schedule"
        else {}
    )
    return Mix({j: r for j, r in rates.items() if r and r > 0})


def predict(
    doc: dict[str, Any],
    mix: Mix | None = None,
    *,
    peak: float | None = None,
    rate_scale: float | None = None,
    headroom: float = DEFAULT_HEADROOM,
    reference: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Each step's knee, the first to fail, its cause and the surge's needs for `mix` (the
    run's own when None) at `peak` journeys/s, or at the mix's peak x `rate_scale`.
    BadInput when the mix has steps the run never measured, or the run cannot say."""
    fit = cpu_fit(doc)
    if fit is None:
        raise BadInput(
            f"run {doc['run']['id']}: no target-CPU cost model to plan from (the target's CPU "
            "was not sampled, or too few samples below the knee)"
        )
    own_mix = mix is None
    mix = mix if mix is not None else run_mix(doc)
    total = sum(mix.rates.values())
    if total <= 0:
        raise BadInput(
            f"run {doc['run']['id']}: no planned mix (a run without a schedule); give a scenario"
            if own_mix
            else f"{mix.source}: no planned arrivals (a closed-model scenario, or no shape)"
        )
    per_arrival, notes = _requests_per_arrival(doc, mix, total)
    calibrated = calibration(doc)
    costs = {s: calibrated["factor"] * c for s, c in _step_costs(fit).items()}
    cpu_per_arrival = sum(r * costs.get(s, 0.0) for s, r in per_arrival.items())
    budget, budget_source = _budget(doc, fit, calibrated)
    background = sum(costs.get(st, 0.0) * r for st, r in _unplanned(doc).items())
    if background > 0:  # the signed-in population's API: it stays whatever the mix
        budget -= background
        notes.append(
            f"{background:,.0f} CPU-ms/s of the budget goes to steps no journey makes (the "
            "signed-in population's API, at their observed peak)"
        )
    cpu_knee = budget / cpu_per_arrival if cpu_per_arrival > 0 and budget > 0 else math.inf
    on_the_cpu = _failing_with_the_cpu(doc)
    steps: dict[str, dict[str, Any]] = {}
    for name, r in per_arrival.items():
        own = None if name in on_the_cpu else _own_limit(doc["steps"][name])
        own_knee = own / r if own is not None and r > 0 else math.inf
        knee = min(own_knee, cpu_knee)
        steps[name] = {
            "requests_per_arrival": r,
            "cpu_ms_per_request": costs.get(name, 0.0),
            "cpu_share": (r * costs.get(name, 0.0) / cpu_per_arrival) if cpu_per_arrival else None,
            "limit": "own capacity" if own_knee < cpu_knee else "target CPU",
            "knee_arrivals": knee if math.isfinite(knee) else None,
            "knee_offered": knee * r if math.isfinite(knee) else None,
        }
    knees = [s["knee_arrivals"] for s in steps.values() if s["knee_arrivals"] is not None]
    first_knee = min(knees) if knees else None
    first = [
        n for n, s in steps.items() if first_knee is not None and s["knee_arrivals"] == first_knee
    ]
    on_cpu = [n for n in first if steps[n]["limit"] == "target CPU"]
    cause = (
        max(on_cpu, key=lambda n: steps[n]["cpu_share"] or 0.0)
        if on_cpu
        else (first[0] if first else None)
    )
    target = peak if peak is not None else total * (rate_scale if rate_scale is not None else 1.0)
    cpu = fit["idle"] + target * cpu_per_arrival
    return {
        "run": doc["run"]["id"],
        "mix_source": mix.source,
        "mix": {j: r / total for j, r in mix.rates.items()},
        "peak_arrivals": target,
        "requests_per_arrival": per_arrival,
        "cpu_per_arrival": cpu_per_arrival,
        "cpu_for_requests": budget,
        "cpu_source": budget_source,
        "calibration": calibrated["text"],
        "idle": fit["idle"],
        "steps": steps,
        "knee_arrivals": first_knee,
        "first_to_fail": first,
        "cause": cause,
        "multiple_needed": target / first_knee if first_knee else None,
        "vcpus": cpu / 1000.0,
        "vcpus_with_headroom": cpu / 1000.0 * (1.0 + headroom),
        "headroom": headroom,
        "reference_text": reference_text(reference),
        "notes": notes,
        "rule": RULE,
    }


def _requests_per_arrival(
    doc: dict[str, Any], mix: Mix, total: float
) -> tuple[dict[str, float], list[str]]:
    """Each step's requests per arrival of the whole mix; BadInput naming the steps the run
    never measured."""
    measured = doc["verdict"].get("steps") or {}
    ratios: dict[str, dict[str, float]] = {}  # journey -> step -> requests per arrival
    for step, entry in measured.items():
        for journey, r in (entry.get("requests_per_arrival") or {}).items():
            ratios.setdefault(journey, {})[step] = r
    out: dict[str, float] = {}
    notes: list[str] = []
    missing: list[str] = []
    for journey, rate in mix.rates.items():
        share = rate / total
        named = mix.steps.get(journey)
        if journey in ratios and (named is None or set(named) == set(ratios[journey])):
            made = ratios[journey]
        else:
            if not named:
                raise BadInput(
                    f"journey {journey!r}: the run did not make it and its steps are unknown "
                    "(plan it from its scenario: --scenario FILE)"
                )
            made = {s: 1.0 for s in named}
            why = "its steps differ from the run's" if journey in ratios else "not in the run"
            notes.append(f"{journey}: {why}; one request per step assumed")
        for step, r in made.items():
            if step not in doc["steps"]:
                missing.append(step)
                continue
            out[step] = out.get(step, 0.0) + share * r
    if missing:
        raise BadInput(
            "the run never measured these steps, so nothing can be predicted for them: "
            + ", ".join(sorted(set(missing)))
        )
    return out, notes


def _unplanned(doc: dict[str, Any]) -> dict[str, float]:
    """Steps no journey makes (the signed-in population's API), at their observed peak
    req/s, on a run with a planned schedule."""
    if doc["verdict"].get("demand_basis") != "schedule":
        return {}
    return {
        name: float(doc["steps"][name].get("offered_max") or 0.0)
        for name, entry in (doc["verdict"].get("steps") or {}).items()
        if not entry.get("requests_per_arrival") and name in doc["steps"]
    }


def _step_costs(fit: dict[str, Any]) -> dict[str, float]:
    return {s: u["cost_per_request"] for u in fit["units"] for s in u["steps"]}


def _budget(
    doc: dict[str, Any], fit: dict[str, Any], calibrated: dict[str, Any]
) -> tuple[float, str]:
    """CPU-ms/s the target had for requests: measured at the run's CPU-bound knee, else all
    its cores."""
    if calibrated["cpu_at_knee"] is not None:
        cpu = calibrated["cpu_at_knee"]
        return cpu - fit["idle"], (
            f"the target CPU at {calibrated['step']}'s knee ({cpu:,.0f} CPU-ms/s) minus idle"
        )
    cores = next(
        (
            s["bottleneck"].get("target_cpu_count")
            for s in doc["steps"].values()
            if s["bottleneck"].get("target_cpu_count")
        ),
        None,
    )
    if not cores:
        raise BadInput(
            f"run {doc['run']['id']}: neither a CPU-bound knee nor the target's core count "
            "was measured (target resources not sampled)"
        )
    return 1000.0 * cores - fit["idle"], (
        f"all {cores} of the target's cores (the run reached no CPU-bound knee: assumes the "
        "target can use them all)"
    )


def _failing_with_the_cpu(doc: dict[str, Any]) -> set[str]:
    """Steps whose knees cannot be ordered from a CPU-bound one's (the fail_together
    finding): judged by the CPU too. A run whose sign-in share swings read 82% CPU at
    login.submit's knee (a burst's queue) while login.form beside it was CPU-bound; its
    capacity there is no limit of its own."""
    together = next((f for f in doc.get("findings") or [] if f["kind"] == "fail_together"), None)
    if together is None:
        return set()
    steps = doc["steps"]
    if not any(
        steps.get(s, {}).get("bottleneck", {}).get("kind") in CPU_KINDS for s in together["steps"]
    ):
        return set()
    return set(together["steps"])


def _own_limit(step: dict[str, Any]) -> float | None:
    """A step's measured capacity (req/s) when something other than the CPU limited it."""
    knee, kind = step["knee"], step["bottleneck"].get("kind")
    if knee["reached"] and kind not in CPU_KINDS and kind not in (None, "unknown"):
        return knee["capacity"]
    return None


def predicted_vs_measured(base: dict[str, Any], later: dict[str, Any]) -> dict[str, Any]:
    """What `plan` predicts from the `base` run for the `later` run's own mix, beside what the
    later run measured: the first knee (journeys/s) and each step's knee (req/s offered),
    with the error (predicted / measured - 1). {"available": False, "note"} when the base
    cannot predict the later run's mix (a step it never measured, no cost model)."""
    try:
        plan = predict(base, run_mix(later), reference=(base.get("sizing") or {}).get("reference"))
    except BadInput as exc:
        return {"available": False, "note": str(exc), "rows": []}
    reached = [e for e in later["first_to_fail"] if e["reached"]]
    first = reached[0] if reached else None
    by_arrivals = bool(reached) and reached[0]["rank_by"] == "journey arrivals/s"
    rows = [
        {
            "what": "first knee (journeys/s)",
            "predicted": plan["knee_arrivals"],
            # steps failing together: the lowest of their knees
            "measured": min(e["knee"] for e in reached) if by_arrivals else None,
        }
    ]
    for name, step in plan["steps"].items():
        knee = (later["steps"].get(name) or {}).get("knee") or {"reached": False}
        rows.append(
            {
                "what": f"{name} knee (req/s offered)",
                "predicted": step["knee_offered"],
                "measured": knee["offered"] if knee["reached"] else None,
            }
        )
    for row in rows:
        p, m = row["predicted"], row["measured"]
        row["error"] = p / m - 1 if p is not None and m else None
    return {
        "available": True,
        "note": None,
        "base": base["run"]["id"],
        "predicted_first": plan["first_to_fail"],
        "predicted_cause": plan["cause"],
        "measured_first": first["step"] if first else None,
        "rows": rows,
    }
