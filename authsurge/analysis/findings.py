"""The story of a run, decided once: typed findings in analysis.json.

Which step fails first (or which fail together, and why), whether the client was the
limit, whether the journeys failed outright, how far the others go, whether goodput
collapsed, what the surge needs, whether sign-in recovered after it (or stayed down:
metastable), how the signed-in people's API fared, how much retries amplified the load,
drops and SLOs.
Each of those facts is decided here, from the rest of analysis.json, and nowhere else:
the terminal text, the HTML report and the leadership summary only *render* findings,
through one formatting module (authsurge.analysis.wording).

A finding is ``{"kind": <one of KINDS>, ...its fields}``; the fields of each kind are in
``KINDS`` (and in authsurge.analysis.schema). The list is in story order: the first
finding leads every rendering.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from authsurge.analysis import sizing
from authsurge.analysis.cause import cause_name
from authsurge.analysis.collapse import COLLAPSE_SHARE
from authsurge.analysis.device_polls import FINDING_FIELDS as DEVICE_FIELDS
from authsurge.analysis.device_polls import finding_fields as device_fields
from authsurge.analysis.knee import NOTHING_JUDGED, nothing_judged
from authsurge.analysis.population import FINDING_FIELDS, finding_fields
from authsurge.analysis.ranking import ARRIVALS, group_interval, together
from authsurge.analysis.recovery import FINDING_FIELDS as RECOVERY_FIELDS
from authsurge.analysis.recovery import finding_fields as recovery_fields

# "Most journeys fail at low load": at least this share of a journey's attempts failed,
# over its lowest-load curve point (or over the run when it has none)
MOSTLY_FAILED = 0.5

KINDS: dict[str, tuple[str, ...]] = {
    # most attempts of a journey failed at low load: a flow that does not work, not a
    # capacity limit; it leads the story
    "journeys_failed": (
        "journey",
        "share",
        "failed",
        "attempts",
        "at",
        "step",
        "reason",
        "advice",
    ),
    # the first knee was measured while the load generator was saturated
    "client_first": (
        "step",
        "offered",
        "arrivals",
        "capacity",
        "reason",
        "bound_s",
        "share_of_run",
    ),
    # steps whose knees cannot be ordered
    "fail_together": ("steps", "span", "unit"),
    # one step reached its knee first
    "saturates_first": (
        "step",
        "offered",
        "arrivals",
        "capacity",
        "reason",
        "bottleneck",
        "p95_below",
    ),
    "nothing_judged": ("text",),
    "healthy": ("step", "healthy_up_to"),  # no step saturates in the measured range
    "no_requests": (),
    # what caused the first failure, and how the first steps relate to it
    "cause": (
        "name",
        "cause_kind",
        "steps",
        "relation",
        "collateral",
        "resource",
        "share",
        "cost_per_request",
        "cost_unit",
        "per_journey",
        "inseparable",
        "apportioned_in",
        "evidence",
    ),
    # how far the step that fails last goes
    "last_step": ("step", "reached", "load"),
    "collapse": (
        "who",
        "at_arrivals",
        "at_offered",
        "peak_goodput",
        "lowest_goodput",
        "failures",
        "seconds",
        "share",
    ),
    "surge": (
        "status",
        "limiting_step",
        "multiple_needed",
        "headroom",
        "peak_demand",
        "capacity",
        "unit",
        "capacity_is_lower_bound",
        "peak_arrivals",
        "demand_basis",
        "text",
        "say_text",
    ),
    # how long sign-in took to recover after the surge fell below capacity, or that it did
    # not (metastable) (analysis.recovery)
    "recovery": RECOVERY_FIELDS,
    "device": DEVICE_FIELDS,
    "sizing": sizing.FINDING_FIELDS,  # the run's cost model as vCPUs (analysis.sizing)
    "retries": ("amplification", "peak_amplification", "retries", "persons"),
    # the signed-in population's API beside the surge's sign-ins (analysis.population)
    "population": FINDING_FIELDS,
    "dropped": ("count", "share"),
    "slos": ("met", "judged", "total", "failed"),
}

# the kinds that can lead the story (exactly one of them is always present)
LEADS = (
    "client_first",
    "fail_together",
    "saturates_first",
    "nothing_judged",
    "healthy",
    "no_requests",
)

# the harness's own outcomes and reasons (authsurge/driver.py): an arrival dropped at the
# concurrency cap or stopped at the end of the run says nothing about the flow
HARNESS_OUTCOMES = ("dropped", "interrupted")
HARNESS_REASONS = ("concurrency cap reached", "stopped at the end of the run", "harness error")

NO_FORM_ADVICE = (
    "the page has no HTML login form: if it is a JavaScript app that signs in through a "
    "JSON API, a form step cannot drive it (it needs a JSON login step); otherwise point "
    "the flow's login path at a server-rendered form"
)
GENERIC_ADVICE = (
    "this is a flow that does not work, not a capacity limit: fix the flow's settings "
    "(the step's failure reasons are in analysis.json, steps.<step>.top_errors) and check "
    "them with a short run at low load before reading any capacity"
)


@dataclass(frozen=True)
class Finding:
    kind: str
    fields: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        expected = set(KINDS[self.kind])
        if set(self.fields) != expected:  # a renderer relies on every field of its kind
            raise ValueError(
                f"finding {self.kind}: fields {sorted(self.fields)} != {sorted(expected)}"
            )

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.fields}


def find(doc: dict[str, Any]) -> list[Finding]:
    """The run's findings in story order, from analysis.json's other sections."""
    out = journeys_failed(doc)
    out += _lead(doc)
    if (cause := _cause(doc)) is not None:
        out.append(cause)
    if (last := _last_step(doc, out)) is not None:
        out.append(last)
    if doc.get("collapse"):
        out.append(_collapse(doc["collapse"]))
    out.append(_surge(doc, out))
    out += _section("sizing", sizing.finding_fields(doc.get("sizing")))
    out += _section("recovery", recovery_fields(doc.get("recovery")))
    out += _section("population", finding_fields(doc.get("population")))
    out += _section("device", device_fields(doc.get("device")))
    out += _retries(doc) + _dropped(doc) + _slos(doc)
    return out


def of_kind(findings: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    """The first finding of a kind in analysis.json's list, or None."""
    return next((f for f in findings if f["kind"] == kind), None)


def lead(findings: list[dict[str, Any]]) -> dict[str, Any]:
    """The finding the story is about: which step fails first (or why nothing does)."""
    return next(f for f in findings if f["kind"] in LEADS)


def journeys_failed(doc: dict[str, Any]) -> list[Finding]:
    """Journeys most of whose attempts failed, at their lowest load too: a flow that does not
    work, not a capacity limit (failures only at high load are the knee's story). Arrivals
    the harness dropped or stopped are its own outcomes, not the flow's: left out."""
    out = []
    for name, journey in (doc.get("journeys") or {}).items():
        by_class = journey.get("errors_by_class") or {}
        own = sum(by_class.get(outcome, 0) for outcome in HARNESS_OUTCOMES)
        attempts = (journey.get("requests") or 0) - own
        failed = (journey.get("errors") or 0) - own
        if attempts <= 0 or failed / attempts < MOSTLY_FAILED:
            continue
        points = [p for p in journey.get("curve") or [] if _load(p) is not None]
        if points:
            low = min(points, key=lambda p: _load(p) or 0.0)
            if low.get("error_rate") is None or low["error_rate"] < MOSTLY_FAILED:
                continue
            at = "already at the lowest load"
        else:
            at = "over a run too short for load levels"
        reasons = [
            e["reason"]
            for e in journey.get("top_errors") or []
            if e.get("reason") and not e["reason"].startswith(HARNESS_REASONS)
        ]
        step, _, reason = (reasons[0] if reasons else "").partition(": ")
        if step not in doc["steps"]:  # a journey-level reason (no step prefix)
            step, reason = "", reasons[0] if reasons else ""
        out.append(
            Finding(
                "journeys_failed",
                {
                    "journey": name,
                    "share": failed / attempts,
                    "failed": failed,
                    "attempts": attempts,
                    "at": at,
                    "step": step or None,
                    "reason": reason or "(no reason recorded)",
                    "advice": NO_FORM_ADVICE if "no login form" in reason else GENERIC_ADVICE,
                },
            )
        )
    return sorted(out, key=lambda f: -f.fields["share"])


def _load(point: dict[str, Any]) -> float | None:
    """A curve point's load: journeys arriving per second, else requests offered."""
    return point.get("arrivals") if point.get("arrivals") is not None else point.get("offered")


def _lead(doc: dict[str, Any]) -> list[Finding]:
    ranked = doc["first_to_fail"]
    steps = doc["steps"]
    if not ranked:
        return [Finding("no_requests")]
    first = ranked[0]
    group = together(ranked)
    if first["reached"] and first.get("generator_bound"):
        knee = steps[first["step"]]["knee"]
        gen = doc.get("generator") or {}
        return [
            Finding(
                "client_first",
                {
                    "step": first["step"],
                    "offered": knee["offered"],
                    "arrivals": knee.get("arrivals"),
                    "capacity": knee["capacity"],
                    "reason": knee["reason"],
                    "bound_s": gen.get("bound_s"),
                    "share_of_run": gen.get("share_of_run"),
                },
            )
        ]
    if len(group) > 1:
        return [
            Finding(
                "fail_together",
                {
                    "steps": [e["step"] for e in group],
                    "span": group_interval(group),
                    "unit": "journeys/s" if group[0]["rank_by"] == ARRIVALS else "req/s offered",
                },
            )
        ]
    if first["reached"]:
        step = steps[first["step"]]
        knee = step["knee"]
        below = [
            p
            for p in step["curve"]
            if p.get("offered") is not None
            and p.get("p95") is not None
            and p["offered"] < knee["offered"]
        ]
        b = step["bottleneck"]
        return [
            Finding(
                "saturates_first",
                {
                    "step": first["step"],
                    "offered": knee["offered"],
                    "arrivals": knee.get("arrivals"),
                    "capacity": knee["capacity"],
                    "reason": knee["reason"],
                    "bottleneck": {
                        k: b.get(k)
                        for k in (
                            "kind",
                            "text",
                            "target_cpu_percent",
                            "target_cpu_count",
                            "rss_growth",
                        )
                    },
                    "p95_below": max(below, key=lambda p: p["offered"])["p95"] if below else None,
                },
            )
        ]
    if nothing_judged(ranked):
        return [Finding("nothing_judged", {"text": NOTHING_JUDGED})]
    best = _judged(ranked)[-1]
    return [
        Finding(
            "healthy",
            {"step": best["step"], "healthy_up_to": steps[best["step"]]["knee"]["max_offered"]},
        )
    ]


def _cause(doc: dict[str, Any]) -> Finding | None:
    cause = doc.get("cause")
    ranked = doc["first_to_fail"]
    if not cause or not ranked:
        return None
    group = together(ranked)
    first = group[0]["step"]
    name = cause_name(cause)
    costed = cause.get("cost_per_request") is not None
    if len(group) > 1:
        relation = "tie"
    elif cause["kind"] != "step" and first in cause["steps"]:
        relation = "contains_first"  # the journey (or steps) the first step belongs to
    elif name != first:
        relation = "first_queues_behind"
    else:
        relation = "is_first"
    return Finding(
        "cause",
        {
            "name": name,
            "cause_kind": cause["kind"],
            "steps": list(cause["steps"]),
            "relation": relation,
            # in a tie, the tied steps outside the cause wait behind it (none for a journey
            # cause, which holds all its steps); alone, the first step when it is not the cause
            "collateral": (
                [s["step"] for s in group if s["step"] not in cause["steps"]]
                if relation == "tie" and cause["step"] and costed
                else [first]
                if relation == "first_queues_behind"
                else []
            ),
            "resource": cause.get("resource"),
            "share": cause.get("share"),
            "cost_per_request": cause.get("cost_per_request") if costed else None,
            "cost_unit": cause.get("cost_unit"),
            "per_journey": cause.get("per_journey"),
            "inseparable": bool(cause.get("reason")),
            # the journey (or "its steps") whose inseparable cost was apportioned to the step
            "apportioned_in": (
                (cause.get("journey") or "its steps") if cause.get("apportioned") else None
            ),
            "evidence": cause.get("evidence") or "",
        },
    )


def _last_step(doc: dict[str, Any], story: list[Finding]) -> Finding | None:
    """How far the step that fails last goes: said when one step saturates first."""
    ranked = doc["first_to_fail"]
    if len(ranked) < 2 or not any(f.kind == "saturates_first" for f in story):
        return None
    last = _judged(ranked)[-1]
    if last["step"] == _lead_step(story):
        return None
    if not last["reached"]:
        if last["step"] in ((doc.get("cause") or {}).get("steps") or []):
            return None  # the cause, throttled by the steps behind it: not "healthy"
        load = doc["steps"][last["step"]]["knee"]["max_offered"]
        return Finding("last_step", {"step": last["step"], "reached": False, "load": load})
    return Finding(
        "last_step", {"step": last["step"], "reached": True, "load": last["knee_offered"]}
    )


def _judged(ranked: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ranked steps with a judged curve (a step fetched once and cached is not); all of
    them when none is."""
    return [e for e in ranked if e.get("judged", True)] or ranked


def _lead_step(story: list[Finding]) -> str | None:
    lead = next((f for f in story if f.kind in LEADS), None)
    return lead.fields.get("step") if lead is not None else None


def _collapse(collapse: dict[str, Any]) -> Finding:
    name = collapse["series"].removeprefix("journey:")
    return Finding(
        "collapse",
        {
            "who": f"journey {name}" if collapse["scope"] == "journey" else name,
            "at_arrivals": collapse.get("at_arrivals"),
            "at_offered": collapse.get("at_offered"),
            "peak_goodput": collapse["peak_goodput"],
            "lowest_goodput": collapse["lowest_goodput"],
            "failures": dict(collapse.get("failures") or {}),
            "seconds": collapse["seconds"],
            "share": COLLAPSE_SHARE,
        },
    )


def _surge(doc: dict[str, Any], story: list[Finding]) -> Finding:
    verdict = doc["verdict"]
    limiting = verdict.get("limiting_step")
    step = (verdict.get("steps") or {}).get(limiting) or {}
    client_first = any(f.kind == "client_first" for f in story)
    return Finding(
        "surge",
        {
            "status": verdict["status"],
            "limiting_step": limiting,
            "multiple_needed": verdict.get("multiple_needed"),
            "headroom": step.get("headroom"),
            "peak_demand": step.get("peak_demand"),
            "capacity": step.get("capacity"),
            "unit": step.get("unit", "req/s"),  # a journey cause is judged in journeys/s
            "capacity_is_lower_bound": bool(step.get("capacity_is_lower_bound")),
            "peak_arrivals": verdict.get("peak_arrivals"),
            "demand_basis": verdict.get("demand_basis"),
            "text": verdict["text"],
            # an "unknown" verdict's text is worth a clause of the headline, unless it only
            # repeats that the client saturated first
            "say_text": bool(limiting) and not (client_first and verdict.get("generator_bound")),
        },
    )


def _retries(doc: dict[str, Any]) -> list[Finding]:
    retry = doc["retry"]
    if not retry.get("available"):
        return []
    return [
        Finding(
            "retries",
            {
                "amplification": retry["amplification"],
                "peak_amplification": (retry.get("peak_window") or {}).get("amplification"),
                "retries": retry["retries"],
                "persons": retry["persons"],
            },
        )
    ]


def _section(kind: str, fields: dict[str, Any] | None) -> list[Finding]:
    """A section's finding, when the run has the section."""
    return [Finding(kind, fields)] if fields is not None else []


def _dropped(doc: dict[str, Any]) -> list[Finding]:
    dropped = doc["dropped"]
    if not dropped["count"]:
        return []
    return [Finding("dropped", {"count": dropped["count"], "share": dropped["share"]})]


def _slos(doc: dict[str, Any]) -> list[Finding]:
    slos = doc["slos"]
    if not slos:
        return []
    judged = [s for s in slos if s.get("passed") is not None]
    return [
        Finding(
            "slos",
            {
                "met": sum(1 for s in judged if s["passed"]),
                "judged": len(judged),
                "total": len(slos),
                "failed": [
                    {k: s.get(k) for k in ("slo", "measured", "unit", "worst_step")}
                    for s in judged
                    if not s["passed"]
                ],
            },
        )
    ]
