"""The terminal text a capacity planner acts on, written from analysis.json (so the numbers
match it): the headline (the run's findings, in the words of authsurge.analysis.wording),
then one line per step, the cost model, SLOs, retries, drops, the verdict and warnings.
"""

from __future__ import annotations

from typing import Any

from authsurge.analysis.wording import headline, ms, rate, story_lines


def step_line(name: str, step: dict[str, Any], ranked: dict[str, Any] | None = None) -> str:
    knee = step["knee"]
    if ranked is not None and not ranked.get("judged", True):
        return f"{name}: not judged ({ranked['not_judged_reason']})"
    if knee["reached"] and knee.get("generator_bound"):
        return (
            f"{name}: knee at {rate(knee['offered'])} req/s offered is the client's, not the target's "
            f"({knee['reason']}); the target served at least {rate(knee['capacity'])} req/s; "
            f"WARNING {step['bottleneck'].get('harness_warning') or 'load generator saturated'}"
        )
    if knee["reached"]:
        text = (
            f"{name}: knee at {rate(knee['offered'])} req/s offered ({knee['reason']}), "
            f"capacity {rate(knee['capacity'])} req/s"
        )
        per_cpu = step["bottleneck"].get("capacity_per_vcpu")
        if per_cpu is not None:
            text += f" ({rate(per_cpu)} req/s per vCPU)"
    else:
        text = (
            f"{name}: no knee up to {rate(knee['max_offered'])} req/s offered, "
            f"p95 {ms(step['p95'])}"
        )
    bottleneck = step["bottleneck"]
    if knee["reached"] and bottleneck.get("text"):
        text += f"; {bottleneck['text']}"
    if ranked and ranked.get("fails_together_with"):
        text += f"; fails together with {', '.join(ranked['fails_together_with'])}"
    collapse = step.get("collapse") or {}
    if collapse.get("collapsed"):
        text += (
            f"; COLLAPSED: goodput fell to {rate(collapse['lowest_goodput'])}/s "
            f"(peak {rate(collapse['peak_goodput'])}/s)"
        )
    if bottleneck.get("harness_warning"):
        text += f"; WARNING {bottleneck['harness_warning']}"
    return text


def summary_text(doc: dict[str, Any]) -> str:
    findings = doc["findings"]
    lines = [headline(findings), ""]
    by_step = {r["step"]: r for r in doc["first_to_fail"]}
    lines += [
        f"  {step_line(name, step, by_step.get(name))}" for name, step in doc["steps"].items()
    ]
    lines += _cost_lines(doc.get("cost") or [])
    lines += story_lines(findings)
    for warning in doc["warnings"]:
        lines.append(f"Warning: {warning}")
    return "\n".join(lines)


def _cost_lines(costs: list[dict[str, Any]]) -> list[str]:
    """'Cost (target CPU, R^2 0.97 over 40 windows): login.submit 31.2 CPU-ms/request [...]'."""
    lines = []
    for cost in costs:
        if not cost.get("fitted"):
            continue
        r2 = "?" if cost["r2"] is None else f"{cost['r2']:.2f}"
        parts = []
        for unit in cost["units"]:
            lo, hi = unit["interval"]
            text = (
                f"{'+'.join(unit['steps'])} {unit['cost_per_request']:,.2f} "
                f"[{lo:,.2f}-{hi:,.2f}] {cost['unit']}/request"
            )
            if not unit["separable"]:
                per_journey = unit.get("per_journey")
                text += " (inseparable"
                if per_journey:
                    text += (
                        f"; {per_journey['cost']:,.2f} {cost['unit']} per "
                        f"{per_journey['journey']} journey"
                    )
                text += ")"
            parts.append(text)
        lines.append(
            f"Cost ({cost['resource']}, R^2 {r2} over {cost['samples']} samples before the "
            f"first knee, idle {cost['idle']:,.0f} {cost['unit']}/s): " + "; ".join(parts)
        )
    return lines
