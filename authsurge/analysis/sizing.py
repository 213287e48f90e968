"""A sizing table from one run, as Keycloak's sizing guide gives one by hand ("15 password
logins/s per vCPU ... add 150% headroom"), and the vCPUs a surge peak needs.

From the target-CPU cost model (authsurge.analysis.cost), per unit (a step, or steps whose
costs cannot be separated, with their cost per journey when one journey makes them):

    requests/s per vCPU = 1,000 CPU-ms/s / CPU-ms per request     (interval: the cost's, inverted)
    cost                = the model's CPU-ms per request x factor
    CPU at the peak     = idle + sum over units of cost x the unit's peak req/s
    vCPUs               = CPU at the peak / 1,000;  with headroom: vCPUs x (1 + headroom)

The factor brings the model to the target CPU measured at the run's first knee when
that knee was CPU-bound (``calibration``), else 1. The peak is the scenario's planned
peak (each step at its own planned peak: the verdict's demand), or a stated peak in
journeys/s that scales it (``--peak``). A step's share is its part of the CPU the
requests use at the peak. A step no journey makes (the signed-in population's API) is
at its observed peak: it does not follow the surge. Per-vCPU figures are this machine's: meta.json's reference
(PBKDF2-SHA256 hashes/s per core, authsurge.pbkdf2.reference_rate) goes beside each of
them.
"""

from __future__ import annotations

import math
from typing import Any

CPU_RESOURCE = "target CPU"
CPU_KINDS = ("cpu", "cpu_per_process")  # bottleneck kinds: the target's CPU saturated
DEFAULT_HEADROOM = 1.5  # Keycloak's guide: add 150% on top of what the load needs
RULE = (
    "cost = the target-CPU cost model's CPU-ms per request x factor (the model against the "
    "CPU measured at a CPU-bound knee, else 1); requests/s per vCPU = 1,000 / cost; vCPUs = "
    "(idle + sum of cost x peak req/s) / 1,000, each step at its planned peak (a stated "
    "peak scales the plan; a step no journey makes at its observed peak); with headroom "
    "x (1 + headroom)"
)


def cpu_fit(doc: dict[str, Any]) -> dict[str, Any] | None:
    """analysis.json's target-CPU cost model when it was fitted."""
    return next(
        (c for c in doc.get("cost") or [] if c["resource"] == CPU_RESOURCE and c["fitted"]), None
    )


def calibration(doc: dict[str, Any]) -> dict[str, Any]:
    """The factor that brings the model's costs to the CPU the target measured at the run's
    first knee, when that knee was CPU-bound: (target CPU at its last passing point - idle)
    / what the model gives the requests there. Near a saturated core the fit has read
    20-32% low (tests/integration/analysis/conftest.py); the measured CPU has not. Also the
    target's CPU at the first failing point (what it had at saturation)."""
    fit = cpu_fit(doc)
    first = next((e for e in doc.get("first_to_fail") or [] if e["reached"]), None)
    out: dict[str, Any] = {
        "factor": 1.0,
        "step": None,
        "cpu_at_knee": None,
        "text": "the cost model's own costs (no CPU-bound knee to check them against)",
    }
    if fit is None or first is None:
        return out
    b = doc["steps"][first["step"]]["bottleneck"]
    before, at = b.get("cpu_percent_before_knee"), b.get("target_cpu_percent")
    if b.get("kind") not in CPU_KINDS or before is None or at is None or not fit.get("at_knee"):
        return out
    factor = (10.0 * before - fit["idle"]) / fit["at_knee"]  # 100% of a core = 1,000 CPU-ms/s
    if not factor > 0:
        return out
    return {
        "factor": factor,
        "step": first["step"],
        "cpu_at_knee": 10.0 * at,
        "text": (
            f"the model's costs x {factor:.2f}, to match the target CPU measured just below "
            f"{first['step']}'s CPU-bound knee"
        ),
    }


def reference_text(reference: dict[str, Any] | None) -> str:
    """'this machine: 27.1 PBKDF2-SHA256 hashes/s per core at 100,000 iterations'."""
    if (
        not reference
        or not reference.get("hashes_per_s_per_core")
        or not reference.get("iterations")
    ):
        return "no machine reference in meta.json (a run made before authsurge measured one)"
    return (
        f"this machine: {reference['hashes_per_s_per_core']:,.1f} PBKDF2-SHA256 hashes/s per "
        f"core at {int(reference['iterations']):,} iterations"
    )


def peak_scale(doc: dict[str, Any], peak: float | None) -> tuple[float | None, float, str]:
    """(peak journeys/s, factor on the planned step rates, basis) for a stated or the
    planned peak."""
    verdict = doc["verdict"]
    planned = verdict.get("peak_arrivals")
    if peak is None:
        return planned, 1.0, str(verdict.get("demand_basis") or "observed")
    if not planned:
        return peak, math.nan, "stated"  # no plan to scale: step rates unknown
    return peak, peak / planned, "stated"


def sizing_section(
    doc: dict[str, Any],
    reference: dict[str, Any] | None,
    peak: float | None = None,
    headroom: float = DEFAULT_HEADROOM,
) -> dict[str, Any]:
    """The sizing table (module docstring) from analysis.json's other sections."""
    fit = cpu_fit(doc)
    out: dict[str, Any] = {
        "available": False,
        "note": None,
        "resource": CPU_RESOURCE,
        "reference": reference,
        "reference_text": reference_text(reference),
        "headroom": headroom,
        "peak_arrivals": None,
        "peak_basis": None,
        "idle": None,
        "calibration": None,
        "rows": [],
        "cpu_at_peak": None,
        "vcpus": None,
        "vcpus_with_headroom": None,
        "dominant": None,
        "rule": RULE,
    }
    if fit is None:
        out["note"] = (
            "no target-CPU cost model (the target's CPU was not sampled, or too few samples)"
        )
        return out
    arrivals, scale, basis = peak_scale(doc, peak)
    calibrated = calibration(doc)
    factor = calibrated["factor"]
    peaks = unit_peaks(doc, scale)
    rows = []
    for unit in fit["units"]:
        cost = factor * unit["cost_per_request"]
        low, high = (factor * x for x in unit["interval"])
        peak_rps, planned = peaks(unit["steps"])
        per_journey = unit.get("per_journey") if not unit["separable"] else None
        rows.append(
            {
                "steps": unit["steps"],
                "name": " + ".join(unit["steps"]),
                "separable": unit["separable"],
                "cost": cost,
                "interval": [low, high],
                "per_vcpu": per_vcpu(cost),
                "per_vcpu_interval": [per_vcpu(high), per_vcpu(low)],
                "journey": per_journey["journey"] if per_journey else None,
                "journeys_per_vcpu": (
                    per_vcpu(factor * per_journey["cost"]) if per_journey else None
                ),
                "peak_rps": peak_rps,
                "planned": planned,
                "cpu_at_peak": cost * peak_rps if peak_rps is not None else None,
                "share": None,
            }
        )
    used = [r["cpu_at_peak"] for r in rows if r["cpu_at_peak"] is not None]
    total = sum(used)
    for r in rows:
        if r["cpu_at_peak"] is not None and total > 0:
            r["share"] = r["cpu_at_peak"] / total
    rows.sort(key=lambda r: -(r["cpu_at_peak"] or 0.0))
    out.update(
        available=True,
        peak_arrivals=arrivals,
        peak_basis=basis,
        idle=fit["idle"],
        calibration=calibrated,
        rows=rows,
    )
    if not math.isfinite(scale):
        out["note"] = (
            "the run has no planned schedule, so a stated peak cannot be turned into step "
            "rates: the vCPUs are not given (size from a run of an open-model scenario)"
        )
        return out
    if not used:
        out["note"] = "no peak request rate for any step"
        return out
    cpu = fit["idle"] + total
    out.update(
        cpu_at_peak=cpu,
        vcpus=cpu / 1000.0,
        vcpus_with_headroom=cpu / 1000.0 * (1.0 + headroom),
        dominant={
            "name": rows[0]["name"],
            "steps": rows[0]["steps"],
            "journey": rows[0]["journey"],
            "share": rows[0]["share"],
        },
    )
    return out


def unit_peaks(doc: dict[str, Any], scale: float) -> Any:
    """A function of a unit's steps: (their peak req/s, whether the plan made it). Planned
    steps are at their planned peak x `scale`; a step no journey makes (the signed-in
    population's API) at its observed peak, unscaled: it does not follow the surge."""
    demand = doc["verdict"].get("steps") or {}

    def unplanned(step: str) -> bool:
        entry = demand.get(step) or {}
        return doc["verdict"].get("demand_basis") == "schedule" and not entry.get(
            "requests_per_arrival"
        )

    def peaks(steps: list[str]) -> tuple[float | None, bool]:
        if not math.isfinite(scale):
            return None, True
        total, planned = 0.0, True
        for step in steps:
            if unplanned(step):
                total += (doc["steps"].get(step) or {}).get("offered_max") or 0.0
                planned = False
            else:
                total += ((demand.get(step) or {}).get("peak_demand") or 0.0) * scale
        return total, planned

    return peaks


def per_vcpu(cost_ms: float | None) -> float | None:
    """Requests per second one vCPU serves at `cost_ms` CPU-ms each (None when free)."""
    return 1000.0 / cost_ms if cost_ms and cost_ms > 0 else None


FINDING_FIELDS = (
    "available",
    "note",
    "reference_text",
    "calibration",
    "rows",
    "peak_arrivals",
    "peak_basis",
    "vcpus",
    "vcpus_with_headroom",
    "headroom",
    "dominant",
)


def finding_fields(section: dict[str, Any] | None) -> dict[str, Any] | None:
    """The `sizing` finding (with `available` false and the note when there is no cost
    model to size from)."""
    if not section:
        return None
    return {k: section[k] for k in FINDING_FIELDS}
