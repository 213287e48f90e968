"""`authsurge plan`'s terminal text, from authsurge.analysis.plan's prediction."""

from __future__ import annotations

from typing import Any

from authsurge.analysis.wording.figures import listed, percent, rate


def plan_lines(plan: dict[str, Any]) -> list[str]:
    """The prediction: the mix, the knee and who fails first, per step, what the peak needs."""
    mix = ", ".join(f"{percent(share)} {journey}" for journey, share in plan["mix"].items())
    lines = [
        f"plan from run {plan['run']} (nothing was run; {plan['reference_text']})",
        f"  mix: {mix} ({plan['mix_source']})",
        f"  CPU per arrival: {plan['cpu_per_arrival']:,.2f} CPU-ms; the target had "
        f"{plan['cpu_for_requests']:,.0f} CPU-ms/s for requests ({plan['cpu_source']})",
    ]
    knee = plan["knee_arrivals"]
    if knee is None:
        why = (
            "the mix costs the target no CPU the model can see"
            if plan["cpu_per_arrival"] <= 0
            else "no CPU is left for the mix's requests"
        )
        lines.append(f"  predicted knee: none ({why})")
    else:
        first = plan["first_to_fail"]
        verb = "fails" if len(first) == 1 else "fail together"
        lines.append(
            f"  predicted knee: {rate(knee)} journeys/s; {listed(first)} {verb} first, "
            f"the cause {plan['cause']}"
            + (
                f" ({percent(plan['steps'][plan['cause']]['cpu_share'])} of the CPU)"
                if plan["cause"] and plan["steps"][plan["cause"]]["cpu_share"] is not None
                else ""
            )
        )
    for name, step in plan["steps"].items():
        where = (
            f"knee at {rate(step['knee_offered'])} req/s ({rate(step['knee_arrivals'])} journeys/s)"
            if step["knee_arrivals"] is not None
            else "no knee"
        )
        lines.append(
            f"  {name}: {step['requests_per_arrival']:.2f} per arrival, "
            f"{step['cpu_ms_per_request']:,.2f} CPU-ms/request; {where}, limited by {step['limit']}"
        )
    need = plan["multiple_needed"]
    lines.append(
        f"  the surge peak ({rate(plan['peak_arrivals'])} journeys/s) "
        + (f"needs {need:.1f}x the predicted capacity; " if need is not None else "")
        + f"{plan['vcpus']:,.1f} vCPUs, {plan['vcpus_with_headroom']:,.1f} with "
        f"{plan['headroom']:.0%} headroom"
    )
    lines += [f"  note: {n}" for n in plan["notes"]]
    return lines
