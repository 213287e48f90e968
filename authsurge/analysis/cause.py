"""The cause of the first failure: the step that uses up what the failing steps share.

The step that crosses its knee first is not always the one to fix. On a target whose
worker pool serves every path, the cheap steps queue behind the password hashes and may
cross their knees first, or together with the hash. So:

- when the first rank is one step and no shared resource was saturated at its knee (a
  rate limiter, a lock), the cause is that step;
- when steps fail together, or the target CPU was saturated at the knee (``bottleneck``
  kind cpu or cpu_per_process: the workers' pool is CPU), the cause is the unit that used
  the most of the target CPU at the knee by the cost model (authsurge.analysis.cost):
  cost per request x its request rate at the knee (authsurge.analysis.cost_inputs.
  rates_at_first_knee). The other failing steps are
  collateral ("queued behind it"): only the cost model can say so, so without it no step
  is collateral;
- when that unit is several steps whose costs cannot be separated, the cause is the step
  that dominates the unit's time served before the knees, its cost apportioned by the
  steps' unloaded response times (authsurge.analysis.service_share; ``apportioned`` says
  how), or else their journey (or the steps, when several journeys make them), with the
  reason;
- without a cost model (no resource samples, too few windows below the knee) the cause is
  the first-ranked step, and the evidence says the cost model is missing; so it is when
  the model cannot tell the top two units apart (the top one uses the most in fewer than
  95% of the bootstrap fits).
"""

from __future__ import annotations

from typing import Any

from authsurge.analysis.cost import CostFit, decisive, shares_at
from authsurge.analysis.ranking import together
from authsurge.analysis.service_share import apportion

SHARED = ("cpu", "cpu_per_process")


def find_cause(
    ranked: list[dict[str, Any]],
    bottlenecks: dict[str, dict[str, Any]],
    cost: CostFit | None,
    knee_rates: dict[str, float],
    unloaded: dict[str, dict[str, float]] | None = None,
) -> dict[str, Any] | None:
    """The cause of the first failure (module docstring); None when no step failed, or when
    the first knee was measured while the load generator was saturated (the client's).

    knee_rates: each step's request rate (req/s) in the windows of the first knee;
    unloaded: each step's unloaded p50 and requests before the knees
    (service_share.unloaded_times), to apportion an inseparable unit's cost."""
    first = together(ranked)
    if not first or not first[0]["reached"] or first[0].get("generator_bound"):
        return None  # no failure, or the client's own (the load generator was saturated)
    lead = first[0]["step"]
    failing = [e["step"] for e in first]
    kind = (bottlenecks.get(lead) or {}).get("kind")
    shared = kind in SHARED
    base: dict[str, Any] = {
        "kind": "step",
        "step": lead,
        "journey": None,
        "steps": [lead],
        "resource": None,
        "share": None,
        "cost_per_request": None,
        "cost_interval": None,
        "cost_unit": None,
        "per_journey": None,
        "collateral": [s for s in failing if s != lead],
        "fail_together": len(failing) > 1,
        "reason": None,
        "apportioned": None,
        "evidence": "",
    }
    if not (shared or len(failing) > 1):
        seen = (bottlenecks.get(lead) or {}).get("text") or ""
        base["evidence"] = f"{lead} fails first, alone" + (
            f"; at its knee the target showed: {seen}"
            if kind not in (None, "unknown")
            else " (the target's resources were not sampled)"
        )
        return base
    shares = shares_at(cost, knee_rates)
    if not shares:
        base["evidence"] = (
            "no cost model (no target resource samples, or too few windows below the knee): "
            f"{lead} is named because it ranks first"
            + (f", together with {', '.join(base['collateral'])}" if base["collateral"] else "")
        )
        base["collateral"] = []  # nothing says the others queue behind it
        return base
    if not decisive(shares):
        second = shares[1]["unit"]["steps"]
        base["evidence"] = (
            f"the cost model cannot tell {'+'.join(shares[0]['unit']['steps'])} and "
            f"{'+'.join(second)} apart at the knee (the first uses more in only "
            f"{shares[0]['confidence'] * 100:.0f}% of the bootstrap fits): {lead} is named "
            "because it ranks first"
        )
        base["collateral"] = []
        return base
    top = shares[0]
    unit = top["unit"]
    steps = list(unit["steps"])
    resource, per = top["resource"], top["resource_unit"]
    base.update(
        steps=steps,
        resource=resource,
        share=top["share"],
        cost_per_request=unit["cost_per_request"],
        cost_interval=unit["interval"],
        cost_unit=f"{per} per request",
        per_journey=unit["per_journey"],
        collateral=[s for s in failing if s not in steps],
    )
    split = None if unit["separable"] else apportion(steps, unloaded or {})
    if unit["separable"]:
        base["step"] = steps[0]
    elif split is not None:
        # the unit's cost per request x its requests is the unit's usage; the step's part
        # of it, per request of the step
        step, part = split["step"], split["shares"][split["step"]]
        per_request = part * sum(split["requests"].values()) / split["requests"][step]
        journeys = unit["journeys"]
        base.update(
            step=step,
            journey=journeys[0] if len(journeys) == 1 else None,
            steps=[step],
            share=top["share"] * part,
            cost_per_request=unit["cost_per_request"] * per_request,
            cost_interval=[c * per_request for c in unit["interval"]],
            collateral=[s for s in failing if s != step],
            apportioned=split,
        )
    else:
        journeys = unit["journeys"]
        base.update(
            kind="journey" if len(journeys) == 1 else "steps",
            step=None,
            journey=journeys[0] if len(journeys) == 1 else None,
            reason=unit["reason"],
        )
    who = base["step"] or (f"journey {base['journey']}" if base["journey"] else "+".join(steps))
    base["evidence"] = (
        f"{who} used {top['share'] * 100:.0f}% of the {resource} that requests used at the "
        f"knee ({unit['cost_per_request']:,.1f} {per} per request x "
        f"{sum(knee_rates.get(s, 0.0) for s in steps):,.1f} req/s"
        + (
            f"; the most in {top['confidence'] * 100:.0f}% of the bootstrap fits)"
            if top["confidence"] is not None and len(shares) > 1
            else ")"
        )
    )
    if split is not None:
        base["evidence"] = (
            f"{'+'.join(steps)} "
            + base["evidence"].removeprefix(f"{who} ")
            + (
                f"; of that, {who} took {split['shares'][who] * 100:.0f}% by the steps' time "
                "served before the knees ("
                + ", ".join(f"{s} p50 {ms:,.0f} ms" for s, ms in split["unloaded_ms"].items())
                + ")"
            )
        )
    return base


def cause_name(cause: dict[str, Any] | None) -> str | None:
    """How the cause is named in a sentence: the step, 'journey X', or 'a+b'."""
    if cause is None:
        return None
    if cause["step"]:
        return str(cause["step"])
    if cause["journey"]:
        return f"journey {cause['journey']}"
    return "+".join(cause["steps"])
