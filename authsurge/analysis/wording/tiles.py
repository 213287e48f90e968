"""The HTML report's headline box: a few short facts, one or more tiles per finding."""

from __future__ import annotations

from typing import Any

from authsurge.analysis.wording.figures import Finding, ms, multiple, percent, rate
from authsurge.analysis.wording.technical import cost_clause, tie_span


def tiles(findings: list[Finding]) -> list[dict[str, str]]:
    """The headline box's tiles: {k: label, v: value, n: note}."""
    out: list[dict[str, str]] = []
    for f in findings:
        out += _tiles(f)
    return out


def _tiles(f: Finding) -> list[dict[str, str]]:
    kind = f["kind"]
    if kind == "journeys_failed":
        where = f"at {f['step']}: " if f["step"] else ""
        return [
            {
                "k": "journeys failed",
                "v": f"{percent(f['share'])} of {f['journey']}",
                "n": f"{where}{f['reason']}",
            }
        ]
    if kind == "fail_together":
        return [
            {
                "k": "fail together",
                "v": ", ".join(f["steps"]),
                "n": f"{tie_span(f)}; their knees cannot be ordered",
            }
        ]
    if kind in ("saturates_first", "client_first"):
        arrivals = f"{rate(f['arrivals'])} journeys/s arriving" if f["arrivals"] is not None else ""
        return [
            {"k": "fails first", "v": f["step"], "n": f["reason"]},
            {"k": "at load (knee)", "v": f"{rate(f['offered'])} req/s offered", "n": arrivals},
            {
                "k": "its capacity",
                "v": f"{rate(f['capacity'])} req/s",
                "n": "successful requests per second it sustains",
            },
        ]
    if kind == "nothing_judged":
        return [{"k": "fails first", "v": "not judged", "n": f["text"]}]
    if kind == "healthy":
        return [
            {
                "k": "fails first",
                "v": "nothing in range",
                "n": f"healthy up to {rate(f['healthy_up_to'])} req/s",
            }
        ]
    if kind == "cause" and f["relation"] in ("tie", "first_queues_behind", "contains_first"):
        return [{"k": "cause", "v": f["name"] or "", "n": cost_clause(f)}]
    if kind == "collapse":
        return [
            {
                "k": "collapse",
                "v": f"{rate(f['lowest_goodput'])}/s",
                "n": f"goodput fell from a peak of {rate(f['peak_goodput'])}/s; "
                f"{f['seconds']:.0f} s in collapse",
            }
        ]
    if kind == "surge":
        return _surge_tiles(f)
    if kind == "recovery":
        return [_recovery_tile(f)]
    if kind == "population" and f["api_error_rate"] is not None:
        against = (
            f"; the surge's {f['sign_in_step']}: {percent(f['sign_in_error_rate'])}"
            if f["sign_in_error_rate"] is not None
            else ""
        )
        return [
            {
                "k": "signed-in API errors",
                "v": percent(f["api_error_rate"]),
                "n": f"of people already signed in{against}",
            }
        ] + _contrast_tiles(f["contrast"])
    if kind == "sizing" and f["vcpus"] is not None:
        return [
            {
                "k": "vCPUs at the peak",
                "v": f"{f['vcpus']:,.1f} ({f['vcpus_with_headroom']:,.1f} with headroom)",
                "n": f"{f['dominant']['name']} {percent(f['dominant']['share'])} of the CPU; "
                f"{f['reference_text']}",
            }
        ]
    if kind == "device" and f["polling_share_of_token_endpoint"] is not None:
        per = f["polls_per_sign_in"]
        note = f"{per:.1f} polls per device sign-in" if per is not None else "no device sign-in"
        if f["amplification"] is not None:
            note += f"; {f['amplification']:.2f}x at the highest load"
        return [
            {
                "k": "token endpoint polling",
                "v": percent(f["polling_share_of_token_endpoint"]),
                "n": note,
            }
        ]
    if kind == "slos":
        return [
            {
                "k": "SLOs met",
                "v": f"{f['met']} of {f['judged']}",
                "n": f"{f['total'] - f['judged']} not judged" if f["judged"] < f["total"] else "",
            }
        ]
    return []


def _recovery_tile(f: Finding) -> dict[str, str]:
    if f["recovered"]:
        return {
            "k": "sign-in recovered",
            "v": f"{f['recovery_s']:,.0f} s",
            "n": f"after the load fell below capacity ({rate(f['capacity'])} journeys/s)",
        }
    if f["metastable"]:
        share = (
            f"; retries {percent(f['retry_share'])} of the load"
            if f["retry_share"] is not None
            else ""
        )
        return {
            "k": "sign-in recovery",
            "v": "none: metastable",
            "n": f"not recovered {f['after_fall_s']:,.0f} s after the load fell below "
            f"capacity{share}",
        }
    return {"k": "sign-in recovery", "v": "not judged", "n": str(f["reason"])}


def _contrast_tiles(c: dict[str, Any] | None) -> list[dict[str, str]]:
    """Did the API of signed-in people stay up (while sign-in failed)?"""
    if not c or c["api_stayed_up"] is None:
        return []
    at = "at the peak" if c["over"] == "peak" else "over the run"
    sign_in = ""
    if c["sign_in_held"] is not None:
        sign_in = (
            f"; sign-in {'held' if c['sign_in_held'] else 'failed'} "
            f"({percent(c['sign_in_error_rate'])} errors)"
        )
    return [
        {
            "k": "signed-in API",
            "v": "stayed up" if c["api_stayed_up"] else "failed",
            "n": f"{at}: {percent(c['api_error_rate'])} errors, p95 {ms(c['api_p95'])}{sign_in}",
        }
    ]


def _surge_tiles(f: Finding) -> list[dict[str, str]]:
    out = []
    limiting = f["limiting_step"]
    if limiting and f["status"] == "fails":
        out.append(
            {
                "k": "surge needs",
                "v": f"{multiple(f['multiple_needed'])} capacity",
                "n": f"of {limiting}: {rate(f['peak_demand'])} {f['unit']} planned at the peak",
            }
        )
    elif limiting:
        out.append(
            {
                "k": "surge headroom",
                "v": multiple(f["headroom"]),
                "n": f"on {limiting} ({rate(f['peak_demand'])} {f['unit']} at the peak)"
                + (", a lower bound" if f["capacity_is_lower_bound"] else ""),
            }
        )
    if f["peak_arrivals"] is not None:
        out.append(
            {
                "k": "surge peak",
                "v": f"{rate(f['peak_arrivals'])} journeys/s",
                "n": f"demand from the {f['demand_basis']}",
            }
        )
    return out
