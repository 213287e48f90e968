"""The technical register: the headline a capacity planner acts on (terminal text and the
HTML report's headline), one clause per finding, and the terminal's story lines."""

from __future__ import annotations

from typing import Any

from authsurge.analysis.findings import LEADS, of_kind
from authsurge.analysis.wording.figures import (
    Finding,
    contrast_words,
    listed,
    ms,
    multiple,
    percent,
    rate,
)


def headline(findings: list[Finding]) -> str:
    """One sentence: the story's findings as clauses, in their order."""
    parts = [c for f in findings if (c := clause(f, findings))]
    return "; ".join(parts) + "."  # no capital: a step name leads, and its case matters


def clause(f: Finding, findings: list[Finding]) -> str:
    """A finding as a clause of the headline ('' for those the headline leaves out)."""
    kind = f["kind"]
    if kind == "journeys_failed":
        where = f" at {f['step']}" if f["step"] else ""
        return (
            f"journey {f['journey']} failed outright: {f['failed']:,} of {f['attempts']:,} "
            f"attempts failed ({percent(f['share'])}, {f['at']}){where}: "
            f"{f['reason']}; {f['advice']}"
        )
    if kind == "client_first":
        lead = (
            f"the client saturated first; add workers: {f['step']}'s knee at "
            f"{rate(f['offered'])} req/s offered"
        )
        if f["arrivals"] is not None:
            lead += f" ({rate(f['arrivals'])} journeys/s arriving)"
        lead += " was measured while the load generator was saturated"
        if f["bound_s"]:
            share = f["share_of_run"]
            lead += f" ({f['bound_s']:.0f} s" + (
                f", {percent(share)} of the run)" if share is not None else ")"
            )
        return (
            lead + f", so it is not the target's capacity (the target served at least "
            f"{rate(f['capacity'])} req/s)"
        )
    if kind == "fail_together":
        return f"{listed(f['steps'])} fail together {tie_span(f)} (their knees cannot be ordered)"
    if kind == "saturates_first":
        lead = (
            f"{f['step']} saturates first, at about {rate(f['capacity'])} req/s on this "
            f"deployment (knee at {rate(f['offered'])} req/s offered"
        )
        if f["arrivals"] is not None:
            lead += f", {rate(f['arrivals'])} journeys/s arriving"
        return lead + f": {f['reason']})" + bottleneck_clause(f["bottleneck"])
    if kind == "nothing_judged":
        return str(f["text"])
    if kind == "healthy":
        return (
            f"no step saturates in the measured range; {f['step']} stays healthy up to "
            f"{rate(f['healthy_up_to'])} req/s"
        )
    if kind == "no_requests":
        return "no request steps were recorded"
    if kind == "cause":
        return _cause_clause(f)
    if kind == "last_step":
        if not f["reached"]:
            return f"{f['step']} stays healthy up to {rate(f['load'])} req/s"
        return f"{f['step']} holds out longest, to {rate(f['load'])} req/s offered"
    if kind == "collapse":
        return collapse_clause(f)
    if kind == "recovery":
        return recovery_clause(f)
    if kind == "population":
        return contrast_clause(f["contrast"])
    if kind == "surge":
        if f["status"] == "fails":
            return (
                f"the surge peak needs {multiple(f['multiple_needed'])} today's "
                f"{f['limiting_step']} capacity"
            )
        if f["status"] == "survives":
            return (
                f"the surge peak fits, with {multiple(f['headroom'])} headroom on "
                f"{f['limiting_step']}"
            )
        return str(f["text"]) if f["say_text"] else ""
    return ""  # retries, drops and SLOs have their own lines


def _cause_clause(f: Finding) -> str:
    costed = f["cost_per_request"] is not None
    relation = f["relation"]
    if relation == "tie":
        if not costed:
            return str(f["evidence"])
        text = f"the cause is {f['name']} ({cost_clause(f)})"
        others = f["collateral"]
        if others:
            text += f", {', '.join(others)} {'queue' if len(others) > 1 else 'queues'} behind it"
        return text
    if relation == "contains_first":
        if f["cause_kind"] == "journey":
            journey = f["name"].removeprefix("journey ")  # the name says "journey web_login"
            return f"the cause is its journey, {journey} ({cost_clause(f)})"
        return f"the cause is {f['name']} ({cost_clause(f)})"
    if relation == "first_queues_behind":
        return f"the cause is {f['name']} ({cost_clause(f)}); {f['collateral'][0]} queues behind it"
    return f"it is the cause ({cost_clause(f)})" if costed else ""


def tie_span(f: Finding) -> str:
    """'between 39 and 42 journeys/s': the surge interval holding a tie group's knees."""
    if f["span"] is None:
        return "at one load"
    return f"between {rate(f['span'][0])} and {rate(f['span'][1])} {f['unit']}"


def cost_clause(f: Finding) -> str:
    """'31.2 CPU-ms per request, 94% of the target CPU used by requests at the knee'."""
    if f["cost_per_request"] is None:
        return str(f["evidence"])
    text = f"{f['cost_per_request']:,.1f} {f['cost_unit']}"
    per_journey = f["per_journey"]
    if f["cause_kind"] != "step" and per_journey:
        text = f"{per_journey['cost']:,.1f} {f['cost_unit'].split(' per ')[0]} per journey"
    text += f", {f['share'] * 100:.0f}% of the {f['resource']} used by requests at the knee"
    if f["inseparable"]:
        text += "; its steps' costs cannot be separated in this run"
    if f["apportioned_in"]:
        within = f["apportioned_in"]
        text += (
            f"; apportioned within {'journey ' + within if within != 'its steps' else within} "
            "by the steps' unloaded response times"
        )
    return text


def collapse_clause(f: Finding) -> str:
    """'goodput collapsed: journey web_login fell below 50% of its peak of 20/s at 32 ...'."""
    at = (
        f"{rate(f['at_arrivals'])} journeys/s"
        if f["at_arrivals"] is not None
        else f"{rate(f['at_offered'])} req/s offered"
    )
    why = ", ".join(f"{n:,} {k}" for k, n in list(f["failures"].items())[:2])
    return (
        f"goodput collapsed: {f['who']} fell below {f['share'] * 100:.0f}% of its peak of "
        f"{rate(f['peak_goodput'])}/s at {at}, down to {rate(f['lowest_goodput'])}/s"
        + (f" ({why})" if why else "")
        + f", {f['seconds']:.0f} s in collapse"
    )


CAPACITY_SOURCES = {"calibration": "calibration", "knee": "first knee's last passing load"}


def recovery_clause(f: Finding) -> str:
    """'sign-in recovered 12 s after the surge fell below capacity (...)', or metastable."""
    if f["recovered"]:
        return (
            f"sign-in recovered {f['recovery_s']:,.0f} s after the surge fell below capacity "
            f"({rate(f['capacity'])} sign-in journeys/s, from the "
            f"{CAPACITY_SOURCES.get(f['capacity_source'], f['capacity_source'])})"
        )
    if f["metastable"]:
        text = (
            f"sign-in had not recovered by the end of the run, {f['after_fall_s']:,.0f} s after "
            "the load fell below capacity: metastable"
        )
        why = []
        if f["retry_share"] is not None:
            why.append(f"retries made {percent(f['retry_share'])} of the load")
        if f["relogins"]:
            why.append(f"{f['relogins']:,} re-logins of signed-in people")
        return text + (f" ({', '.join(why)})" if why else "")
    return f"sign-in's recovery after the surge was not judged: {f['reason']}"


def contrast_clause(c: dict[str, Any] | None) -> str:
    """'sign-in failed at the peak (33.0% errors, p95 2,300 ms) while the API of signed-in
    people stayed up (0.2% errors, p95 40 ms)'; '' when the API was not judged."""
    if not c or c["api_stayed_up"] is None:
        return ""
    at = "at the peak" if c["over"] == "peak" else "over the run"
    api = _health(c["api_error_rate"], c["api_p95"]).removeprefix(", ")
    held = c["sign_in_held"]
    sign_in = (
        _health(c["sign_in_error_rate"], c["sign_in_p95"]).removeprefix(", ")
        if held is not None
        else ""
    )
    return contrast_words(held, c["api_stayed_up"], "the API of signed-in people", sign_in, at, api)


def bottleneck_clause(b: dict[str, Any]) -> str:
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


def story_lines(findings: list[Finding]) -> list[str]:
    """The terminal text's lines for SLOs, retries, drops and the verdict."""
    lines = []
    if (slos := of_kind(findings, "slos")) and slos["judged"]:
        text = f"SLOs: {slos['met']} of {slos['judged']} met"
        for s in slos["failed"]:
            shown = percent(s["measured"]) if s["unit"] == "fraction" else ms(s["measured"])
            text += f"; FAILED {s['slo']}: {shown} on {s['worst_step']}"
        lines.append(text)
    if population := of_kind(findings, "population"):
        lines.append(population_line(population))
    if device := of_kind(findings, "device"):
        lines.append(device_line(device))
    if (retries := of_kind(findings, "retries")) and retries["amplification"] is not None:
        text = f"Retries: {retries['amplification']:.2f} attempts per person"
        if retries["peak_amplification"] is not None:
            text += f" ({retries['peak_amplification']:.2f} in the busiest window)"
        lines.append(text)
    if dropped := of_kind(findings, "dropped"):
        lines.append(
            f"Dropped journeys: {dropped['count']:,} ({percent(dropped['share'])} of "
            "arrivals: the harness's concurrency cap was reached, or no account was free; the "
            "dropped rows' reason says which)"
        )
    if sizing := of_kind(findings, "sizing"):
        lines += sizing_lines(sizing)
    surge = of_kind(findings, "surge")
    if surge:
        lines.append(
            f"Verdict: {surge['status']}: {surge['text']} (demand from the {surge['demand_basis']})"
        )
    return lines


def sizing_lines(f: Finding) -> list[str]:
    """'Sizing (target CPU; this machine: 27.1 PBKDF2-SHA256 hashes/s per core ...):', a
    line per step ('  login.submit: 37.8 CPU-ms/request = 26.4 [21.6-34.0] req/s per vCPU,
    87% of the CPU at the peak'), then what the peak needs."""
    if not f["available"]:
        return [f"Sizing: not available: {f['note']}"]
    lines = [f"Sizing (target CPU; {f['reference_text']}; {f['calibration']['text']}):"]
    for row in f["rows"]:
        low, high = row["per_vcpu_interval"]
        text = f"  {row['name']}: {row['cost']:,.2f} CPU-ms/request"
        if row["per_vcpu"] is None:
            text += " (no CPU the model can see)"
        else:
            text += (
                f" = {rate(row['per_vcpu'])} [{rate(low)}-{'no bound' if high is None else rate(high)}]"
                " req/s per vCPU"
            )
        if row["journeys_per_vcpu"] is not None:
            text += f" (inseparable: {rate(row['journeys_per_vcpu'])} {row['journey']} journeys/s per vCPU)"
        if row["share"] is not None:
            text += f", {percent(row['share'])} of the CPU at the peak"
        if not row["planned"]:
            text += " (at its observed peak: no journey makes it, it does not follow the surge)"
        lines.append(text)
    if f["vcpus"] is not None:
        peak = f"{rate(f['peak_arrivals'])} journeys/s, " if f["peak_arrivals"] is not None else ""
        lines.append(
            f"  the peak ({peak}{f['peak_basis']}) needs {f['vcpus']:,.1f} vCPUs, "
            f"{f['vcpus_with_headroom']:,.1f} with {f['headroom']:.0%} headroom; "
            f"{f['dominant']['name']} is {percent(f['dominant']['share'])} of the CPU its requests use"
        )
    if f["note"]:
        lines.append(f"  note: {f['note']}")
    return lines


def device_line(f: Finding) -> str:
    """'Device sign-ins: 120 attempts, 98 signed in, 4.2 polls per sign-in (approved in
    12 s at p50, 40 s at p90); polls per attempt 1.8x at the highest load over the lowest
    (rising); polling was 63% of the token endpoint's requests, 12 slow_down answers'."""
    text = f"Device sign-ins: {f['attempts']:,} attempts, {f['sign_ins']:,} signed in"
    if f["polls_per_sign_in"] is not None:
        text += f", {f['polls_per_sign_in']:.1f} polls per sign-in"
    if f["approve_p50_s"] is not None:
        text += (
            f" (approved in {f['approve_p50_s']:,.1f} s at p50, {f['approve_p90_s']:,.1f} s at p90)"
        )
    if f["amplification"] is not None:
        trend = "rising" if f["rising"] else "not rising"
        text += (
            f"; polls per attempt {f['amplification']:.2f}x at the highest device sign-in "
            f"load over the lowest ({trend})"
        )
    if f["polling_share_of_token_endpoint"] is not None:
        text += (
            f"; polling was {percent(f['polling_share_of_token_endpoint'])} of the token "
            f"endpoint's requests"
        )
    return text + f", {f['slow_downs']:,} slow_down answers"


def population_line(f: Finding) -> str:
    """'Signed-in population: 8 before the surge (8 signed in by the warm-up's end), 8 to 8
    signed in at a time; their API (population:api.call) 192 requests, 0.0% errors, p95
    5 ms, while the surge's login.submit had 62% errors, p95 40 ms; ...'."""
    text = (
        f"Signed-in population: {f['size']:,} before the surge "
        f"({f['signed_in_at_start'] or 0:,} signed in by the warm-up's end)"
    )
    if f["joined"]:
        text += f" + {f['joined']:,} joined from the surge's sign-ins"
    if f["lowest_signed_in"] is not None:
        text += f", {f['lowest_signed_in']:,} to {f['highest_signed_in']:,} signed in at a time"
    text += f"; their API ({', '.join(f['api_steps']) or 'no API step'}) "
    text += f"{f['api_requests']:,} requests" + _health(f["api_error_rate"], f["api_p95"])
    if f["sign_in_step"] is not None:
        text += f", while the surge's {f['sign_in_step']} had" + _health(
            f["sign_in_error_rate"], f["sign_in_p95"]
        ).removeprefix(",")
    return (
        text + f"; {f['refreshes']:,} token refreshes, {f['relogins']:,} re-logins, "
        f"{f['gave_up']:,} gave up"
    )


def _health(error_rate: float | None, p95: float | None) -> str:
    """', 0.0% errors, p95 5 ms' (what is known of it)."""
    text = f", {percent(error_rate)} errors" if error_rate is not None else ""
    return text + (f", p95 {ms(p95)}" if p95 is not None else "")


def short_story(findings: list[Finding]) -> str:
    """The run's lead in a few words, for one-line listings (`authsurge runs`)."""
    failed = of_kind(findings, "journeys_failed")
    if failed is not None:
        where = f" at {failed['step']}" if failed["step"] else ""
        return f"FAILED OUTRIGHT: {failed['journey']} ({percent(failed['share'])}{where})"
    lead = next((f for f in findings if f["kind"] in LEADS), None)
    if lead is None:
        return ""
    kind = lead["kind"]
    if kind == "saturates_first" and lead["offered"] is not None:
        return f"{lead['step']} ({lead['offered']:,.4g})"
    if kind == "client_first":
        return f"{lead['step']} (the client's knee: add workers)"
    if kind == "fail_together":
        return f"{' + '.join(lead['steps'])} together ({tie_span(lead)})"
    if kind == "healthy":
        return f"no knee (healthy to {rate(lead['healthy_up_to'])} req/s)"
    if kind == "nothing_judged":
        return "not judged (too few requests)"
    return "no requests"
