"""The summary a capacity planner acts on, written from analysis.json (so the numbers match it).

First a sentence: which step saturates first, at what load, what the target ran out of,
how far the other steps go, and what the surge peak needs. Then one line per step, the
SLOs, retries, drops and warnings.
"""

from __future__ import annotations

from typing import Any

from authsurge.analysis.cause import cause_name
from authsurge.analysis.collapse import COLLAPSE_SHARE
from authsurge.analysis.knee import NOTHING_JUDGED, nothing_judged
from authsurge.analysis.ranking import ARRIVALS, group_interval, together


def rate(x: float | None) -> str:
    """A rate as printed everywhere in the summary: 2,100 / 55.6 / 4.25."""
    if x is None:
        return "?"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def multiple(x: float | None) -> str:
    return "?" if x is None else f"{x:.1f}x"


def ms(x: float | None) -> str:
    return "?" if x is None else f"{x:,.0f} ms"


def percent(x: float | None) -> str:
    return "?" if x is None else f"{x * 100:.1f}%"


def _bottleneck_clause(b: dict[str, Any]) -> str:
    kind = b.get("kind")
    if kind == "cpu":
        return (
            f", when target CPU reaches {b['target_cpu_percent']:.0f}% of "
            f"{b['target_cpu_count']} {'core' if b['target_cpu_count'] == 1 else 'cores'}"
        )
    if kind == "cpu_per_process":
        return f", when its target processes are CPU-bound ({b['text'].split(': ', 1)[-1]})"
    if kind == "memory":
        return f", while target memory grows {b['rss_growth']:.1f}x"
    if kind == "none":
        cpu = b.get("target_cpu_percent")
        cores = b.get("target_cpu_count")
        of = f" of {cores} cores" if cores else ""
        return (
            f", with no saturated target resource visible (CPU {cpu:.0f}%{of})"
            if cpu is not None
            else ""
        )
    return ""


def headline(doc: dict[str, Any]) -> str:
    steps = doc["steps"]
    ranked = doc["first_to_fail"]
    verdict = doc["verdict"]
    parts: list[str] = []
    first = ranked[0] if ranked else None
    group = together(ranked)
    cause = doc.get("cause")
    client_first = bool(first and first["reached"] and first.get("generator_bound"))
    if client_first and first:
        parts.append(_client_first_lead(first["step"], steps[first["step"]]["knee"], doc))
    elif first and len(group) > 1:
        parts.append(tie_lead(group, cause))
    elif first and first["reached"]:
        step = steps[first["step"]]
        knee = step["knee"]
        lead = (
            f"{first['step']} saturates first, at about {rate(knee['capacity'])} req/s on this "
            f"deployment (knee at {rate(knee['offered'])} req/s offered"
        )
        if knee.get("arrivals") is not None:
            lead += f", {rate(knee['arrivals'])} journeys/s arriving"
        lead += f": {knee['reason']})" + _bottleneck_clause(step["bottleneck"])
        parts.append(lead)
        if cause and cause["kind"] == "journey" and first["step"] in cause["steps"]:
            parts.append(f"the cause is its journey, {cause['journey']} ({cause_clause(cause)})")
        elif cause and cause["kind"] == "steps" and first["step"] in cause["steps"]:
            parts.append(f"the cause is {cause_name(cause)} ({cause_clause(cause)})")
        elif cause and cause_name(cause) != first["step"]:
            parts.append(
                f"the cause is {cause_name(cause)} ({cause_clause(cause)}); "
                f"{first['step']} queues behind it"
            )
        elif cause and cause.get("cost_per_request") is not None:
            parts.append(f"it is the cause ({cause_clause(cause)})")
        last = ranked[-1]
        if len(ranked) > 1 and not last["reached"]:
            parts.append(
                f"{last['step']} stays healthy up to "
                f"{rate(steps[last['step']]['knee']['max_offered'])} req/s"
            )
        elif len(ranked) > 1:
            parts.append(
                f"{last['step']} holds out longest, to {rate(last['knee_offered'])} req/s offered"
            )
    elif nothing_judged(ranked):
        parts.append(NOTHING_JUDGED)
    elif ranked:
        best = ranked[-1]
        parts.append(
            f"no step saturates in the measured range; {best['step']} stays healthy up to "
            f"{rate(steps[best['step']]['knee']['max_offered'])} req/s"
        )
    else:
        parts.append("no request steps were recorded")
    if doc.get("collapse"):
        parts.append(collapse_clause(doc["collapse"]))
    if verdict["status"] == "fails":
        parts.append(
            f"the surge peak needs {multiple(verdict['multiple_needed'])} today's "
            f"{verdict['limiting_step']} capacity"
        )
    elif verdict["status"] == "survives":
        room = verdict["steps"][verdict["limiting_step"]]["headroom"]
        parts.append(
            f"the surge peak fits, with {multiple(room)} headroom on {verdict['limiting_step']}"
        )
    elif verdict.get("limiting_step") and not (client_first and verdict.get("generator_bound")):
        parts.append(verdict["text"])
    return "; ".join(parts) + "."  # no capital: a step name leads, and its case matters


def tie_lead(group: list[dict[str, Any]], cause: dict[str, Any] | None) -> str:
    """'a, b and c fail together between 39 and 42 journeys/s; the cause is b (...)'."""
    names = [e["step"] for e in group]
    listed = ", ".join(names[:-1]) + f" and {names[-1]}"
    lead = f"{listed} fail together {tie_span(group)} (their knees cannot be ordered)"
    if cause and cause.get("cost_per_request") is not None:
        # a journey cause holds all its steps: nothing of it queues behind itself
        others = [n for n in names if n not in cause["steps"]] if cause["step"] else []
        lead += f"; the cause is {cause_name(cause)} ({cause_clause(cause)})"
        if others:
            lead += f", {', '.join(others)} {'queue' if len(others) > 1 else 'queues'} behind it"
    elif cause:
        lead += f"; {cause['evidence']}"
    return lead


def tie_span(group: list[dict[str, Any]]) -> str:
    """'between 39 and 42 journeys/s': the surge interval holding a tie group's knees."""
    span = group_interval(group)
    if span is None:
        return "at one load"
    unit = "journeys/s" if group[0]["rank_by"] == ARRIVALS else "req/s offered"
    return f"between {rate(span[0])} and {rate(span[1])} {unit}"


def cause_clause(cause: dict[str, Any]) -> str:
    """'31.2 CPU-ms per request, 94% of the target CPU used by requests at the knee'."""
    if cause.get("cost_per_request") is None:
        return cause.get("evidence") or ""
    text = f"{cause['cost_per_request']:,.1f} {cause['cost_unit']}"
    per_journey = cause.get("per_journey")
    if cause.get("kind") != "step" and per_journey:
        text = f"{per_journey['cost']:,.1f} {cause['cost_unit'].split(' per ')[0]} per journey"
    text += f", {cause['share'] * 100:.0f}% of the {cause['resource']} used by requests at the knee"
    if cause.get("reason"):
        text += "; its steps' costs cannot be separated in this run"
    return text


def collapse_clause(collapse: dict[str, Any]) -> str:
    """'goodput collapsed: journey web_login fell below half its peak of 20/s at 32 ...'."""
    name = collapse["series"].removeprefix("journey:")
    who = f"journey {name}" if collapse["scope"] == "journey" else name
    at = (
        f"{rate(collapse['at_arrivals'])} journeys/s"
        if collapse.get("at_arrivals") is not None
        else f"{rate(collapse['at_offered'])} req/s offered"
    )
    failures = collapse.get("failures") or {}
    why = ", ".join(f"{n:,} {k}" for k, n in list(failures.items())[:2])
    return (
        f"goodput collapsed: {who} fell below {COLLAPSE_SHARE * 100:.0f}% of its peak of "
        f"{rate(collapse['peak_goodput'])}/s at {at}, down to "
        f"{rate(collapse['lowest_goodput'])}/s"
        + (f" ({why})" if why else "")
        + f", {collapse['seconds']:.0f} s in collapse"
    )


def _client_first_lead(name: str, knee: dict[str, Any], doc: dict[str, Any]) -> str:
    """The headline when the first knee was measured while the load generator was saturated."""
    gen = doc.get("generator") or {}
    lead = f"the client saturated first; add workers: {name}'s knee at {rate(knee['offered'])} req/s offered"
    if knee.get("arrivals") is not None:
        lead += f" ({rate(knee['arrivals'])} journeys/s arriving)"
    lead += " was measured while the load generator was saturated"
    if gen.get("bound_s"):
        share = gen.get("share_of_run")
        lead += f" ({gen['bound_s']:.0f} s" + (
            f", {percent(share)} of the run)" if share is not None else ")"
        )
    return (
        lead + f", so it is not the target's capacity (the target served at least "
        f"{rate(knee['capacity'])} req/s)"
    )


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
    lines = [headline(doc), ""]
    by_step = {r["step"]: r for r in doc["first_to_fail"]}
    lines += [
        f"  {step_line(name, step, by_step.get(name))}" for name, step in doc["steps"].items()
    ]
    lines += _cost_lines(doc.get("cost") or [])
    slos = [s for s in doc["slos"] if s["passed"] is not None]
    failed = [s for s in slos if not s["passed"]]
    if slos:
        text = f"SLOs: {len(slos) - len(failed)} of {len(slos)} met"
        for s in failed:
            shown = percent(s["measured"]) if s["unit"] == "fraction" else ms(s["measured"])
            text += f"; FAILED {s['slo']}: {shown} on {s['worst_step']}"
        lines.append(text)
    retry = doc["retry"]
    if retry.get("available"):
        peak = (retry.get("peak_window") or {}).get("amplification")
        text = f"Retries: {retry['amplification']:.2f} attempts per person"
        if peak is not None:
            text += f" ({peak:.2f} in the busiest window)"
        lines.append(text)
    dropped = doc["dropped"]
    if dropped["count"]:
        lines.append(
            f"Dropped journeys: {dropped['count']:,} ({percent(dropped['share'])} of "
            "arrivals; the harness's concurrency cap was reached)"
        )
    verdict = doc["verdict"]
    lines.append(
        f"Verdict: {verdict['status']}: {verdict['text']} (demand from the "
        f"{verdict['demand_basis']})"
    )
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
