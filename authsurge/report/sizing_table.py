"""The HTML report's sizing table (analysis.json's sizing section) and its predicted-vs-
measured table (authsurge.analysis.plan.predicted_vs_measured), as display rows."""

from __future__ import annotations

from typing import Any

from authsurge.analysis.wording import percent, rate


def sizing_context(section: dict[str, Any] | None) -> dict[str, Any] | None:
    """Rows of the sizing table, and what the peak needs; None without a cost model."""
    if not section or not section["available"]:
        return None
    rows = []
    for r in section["rows"]:
        low, high = r["per_vcpu_interval"]
        per_journey = (
            f"{rate(r['journeys_per_vcpu'])} {r['journey']} journeys/s"
            if r["journeys_per_vcpu"] is not None
            else ""
        )
        rows.append(
            {
                "name": r["name"],
                "cost": f"{r['cost']:,.2f}",
                "per_vcpu": (
                    f"{rate(r['per_vcpu'])} [{rate(low)}-{'no bound' if high is None else rate(high)}]"
                    if r["per_vcpu"] is not None
                    else "no CPU the model can see"
                ),
                "per_journey": per_journey,
                "peak": rate(r["peak_rps"]) if r["peak_rps"] is not None else "",
                "share": percent(r["share"]) if r["share"] is not None else "",
            }
        )
    needs = None
    if section["vcpus"] is not None:
        peak = rate(section["peak_arrivals"]) if section["peak_arrivals"] is not None else "?"
        needs = (
            f"The peak ({peak} journeys/s, {section['peak_basis']}) needs "
            f"{section['vcpus']:,.1f} vCPUs, {section['vcpus_with_headroom']:,.1f} with "
            f"{section['headroom']:.0%} headroom."
        )
    return {
        "rows": rows,
        "needs": needs,
        "reference": section["reference_text"],
        "calibration": section["calibration"]["text"],
        "note": section["note"],
        "rule": section["rule"],
    }


def prediction_context(prediction: dict[str, Any] | None) -> dict[str, Any] | None:
    """Predicted (from the baseline) vs measured rows, with the error."""
    if prediction is None:
        return None
    if not prediction["available"]:
        return {"note": prediction["note"], "rows": [], "base": None}

    def shown(x: float | None) -> str:
        return rate(x) if x is not None else "not reached"

    return {
        "note": None,
        "base": prediction["base"],
        "first": (
            f"predicted first to fail: {', '.join(prediction['predicted_first'])} (cause "
            f"{prediction['predicted_cause']}); measured: {prediction['measured_first'] or 'none'}"
        ),
        "rows": [
            {
                "what": r["what"],
                "predicted": shown(r["predicted"]),
                "measured": shown(r["measured"]),
                "error": f"{r['error']:+.0%}" if r["error"] is not None else "",
            }
            for r in prediction["rows"]
        ],
    }
