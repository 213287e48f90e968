"""The plain register: the leadership summary's sentences, terms explained where they
first appear."""

from __future__ import annotations

from typing import Any

from authsurge.analysis.findings import lead as story_lead
from authsurge.analysis.findings import of_kind
from authsurge.analysis.wording.figures import (
    Finding,
    contrast_words,
    ms,
    multiple,
    percent,
    plain,
    rate,
)


def sentences(findings: list[Finding]) -> list[str]:
    """The summary's sentences about the run: (what failed outright,) capacity, where it
    breaks first, (whether the signed-in people's API stayed up, how they fared,) what the
    surge needs, (whether sign-in recovered after it,) the SLOs, (the processor cores the
    peak needs, and the step that takes most of them.)"""
    out: list[str | None] = [
        _failed_sentence(f) for f in findings if f["kind"] == "journeys_failed"
    ]
    lead = story_lead(findings)
    out += [_capacity_sentence(lead), _breaks_first_sentence(lead, findings)]
    if population := of_kind(findings, "population"):
        out += [_contrast_sentence(population["contrast"]), _population_sentence(population)]
    if surge := of_kind(findings, "surge"):
        out.append(_surge_sentence(surge))
    if recovery := of_kind(findings, "recovery"):
        out.append(_recovery_sentence(recovery))
    if device := of_kind(findings, "device"):
        out.append(_device_sentence(device))
    if (slos := of_kind(findings, "slos")) and slos["judged"]:
        out.append(_slo_sentence(slos))
    if (sizing := of_kind(findings, "sizing")) and sizing["vcpus"] is not None:
        out += _sizing_sentences(sizing)
    return [s for s in out if s]


def _sizing_sentences(f: Finding) -> list[str]:
    """The vCPUs the peak needs, and the step that dominates them."""
    peak = f" of {rate(f['peak_arrivals'])} people a second" if f["peak_arrivals"] else ""
    dominant = f["dominant"]
    if len(dominant["steps"]) > 1:  # inseparable: the journey that makes them, or the list
        journey = dominant["journey"]
        what = f"the requests of journey {journey}" if journey else "these steps together"
    else:
        what = plain(dominant["steps"][0])
    return [
        f"At the surge's peak{peak}, the sign-in service needs about {f['vcpus']:,.1f} "
        f"processor cores of this test machine's speed, {f['vcpus_with_headroom']:,.1f} "
        f"with the {f['headroom']:.0%} spare capacity Keycloak's sizing guide advises "
        f"({f['reference_text']}).",
        f"{what[:1].upper() + what[1:]} ({dominant['name']}) takes {percent(dominant['share'])} "
        "of that processor time.",
    ]


def _device_sentence(f: Finding) -> str | None:
    """How much of the token endpoint's work was command-line tools asking whether the
    person had approved yet."""
    if f["polling_share_of_token_endpoint"] is None or f["polls_per_sign_in"] is None:
        return None
    text = (
        f"Command-line sign-ins (a code shown in the terminal, approved in a browser) asked "
        f"the token endpoint {f['polls_per_sign_in']:.1f} times per sign-in while waiting: "
        f"{percent(f['polling_share_of_token_endpoint'])} of its requests were such polls"
    )
    if f["rising"]:
        text += f", and {multiple(f['amplification'])} as many per sign-in at the busiest"
    return text + "."


def _population_sentence(f: Finding) -> str | None:
    """The outage's signature, or its absence: how the people already signed in fared
    while new people signed in."""
    if f["api_error_rate"] is None:
        return None
    text = (
        f"Of the API calls of the people who were already signed in ({f['size']:,}"
        + (f", and {f['joined']:,} more who signed in during the surge" if f["joined"] else "")
        + f"), {percent(f['api_error_rate'])} failed"
        + (f" and 95% took at most {ms(f['api_p95'])}" if f["api_p95"] is not None else "")
    )
    if f["sign_in_error_rate"] is not None:
        text += (
            f", while {percent(f['sign_in_error_rate'])} failed for new people at the step "
            f"of {plain(f['sign_in_step'])} ({f['sign_in_step']})"
        )
    return text + "."


def _contrast_sentence(c: dict[str, Any] | None) -> str | None:
    """Whether the API of the people already signed in stayed up while sign-in failed, with
    the rule "stayed up" stands for."""
    if not c or c["api_stayed_up"] is None:
        return None
    at = "at the surge's peak" if c["over"] == "peak" else "over the test"
    api = _plain_health(c["api_error_rate"], c["api_p95"], "its requests")
    held = c["sign_in_held"]
    sign_in = (
        _plain_health(c["sign_in_error_rate"], c["sign_in_p95"], "sign-in requests")
        if held is not None
        else ""
    )
    people = "the API of the people already signed in"
    text = contrast_words(held, c["api_stayed_up"], people, sign_in, at, api)
    text = text[0].upper() + text[1:]
    return (
        f"{text}; staying up means fewer than {percent(c['error_limit'])} of requests failing "
        f"and 95% answered within {ms(c['p95_limit_ms'])}."
    )


def _plain_health(error_rate: float | None, p95: float | None, what: str) -> str:
    """'33.0% of sign-in requests failed, 95% within 2,300 ms' (what is known of it)."""
    parts = [f"{percent(error_rate)} of {what} failed"] if error_rate is not None else []
    parts += [f"95% within {ms(p95)}"] if p95 is not None else []
    return ", ".join(parts) or "no figures"


def _recovery_sentence(f: Finding) -> str:
    """How long sign-in took to come back after the surge, or that it stayed down."""
    measured = {
        "calibration": ", as measured before the test",
        "knee": ", the most it handled before its first step stopped keeping up",
    }.get(f["capacity_source"], "")
    fell = (
        "After the surge's planned sign-ins fell back below what this deployment handles "
        f"(about {rate(f['capacity'])} people starting to sign in per second{measured})"
    )
    if f["recovered"]:
        return (
            f"{fell}, sign-in recovered in {f['recovery_s']:,.0f} seconds: successful sign-ins "
            "kept up with attempts again and took at most twice as long as before the surge."
        )
    if f["metastable"]:
        why = (
            f"kept down by retries, which made {percent(f['retry_share'])} of the sign-in "
            "attempts after the fall"
            if f["retry_share"]
            else "kept down by its own backlog"
        )
        if f["relogins"]:
            why += f", and by {f['relogins']:,} re-logins of people who had been signed in"
        return (
            f"{fell}, sign-in still had not recovered when the test ended "
            f"{f['after_fall_s']:,.0f} seconds later: it was stuck in overload (metastable), "
            f"{why}."
        )
    return f"Whether sign-in recovered after the surge could not be judged: {f['reason']}."


def _failed_sentence(f: Finding) -> str:
    where = f" at {plain(f['step'])} ({f['step']})" if f["step"] else ""
    return (
        f"Sign-in did not work in this test: {f['failed']:,} of {f['attempts']:,} attempts "
        f'of {f["journey"]} failed{where}, {f["at"]} ("{f["reason"]}"). '
        f"Until that is fixed, the figures below say nothing about capacity: {f['advice']}."
    )


def _capacity_sentence(lead: Finding) -> str:
    kind = lead["kind"]
    if kind == "client_first":
        return (
            f"Capacity: at least {rate(lead['capacity'])} successful {lead['step']} requests "
            "per second; beyond that the test's own load generator was the limit, not the "
            "server, so the test must be rerun with more load-generating workers to say more."
        )
    if kind == "saturates_first":
        if lead["arrivals"] is not None:
            return (
                f"Capacity: this deployment handles about {rate(lead['arrivals'])} people "
                "starting to sign in per second before its first step stops keeping up; "
                "beyond that, sign-ins fail or wait."
            )
        return (
            f"Capacity: this deployment handles about {rate(lead['capacity'])} successful "
            f"{lead['step']} requests per second before that step stops keeping up."
        )
    if kind == "fail_together":
        if lead["span"] is None:
            return "Capacity: several steps stop keeping up at the same load (see below)."
        if lead["unit"] == "journeys/s":
            return (
                f"Capacity: this deployment handles about {rate(lead['span'][0])} people "
                "starting to sign in per second before its first steps stop keeping up; "
                "beyond that, sign-ins fail or wait."
            )
        return (
            f"Capacity: this deployment's first steps stop keeping up at about "
            f"{rate(lead['span'][0])} requests per second sent to them."
        )
    if kind == "nothing_judged":
        return (
            "Capacity: this test was too short or too light to say; each load level needs "
            "more requests before a limit can be judged."
        )
    if kind == "healthy":
        return (
            f"Capacity: no step reached its limit in this test; the sign-in path stayed "
            f"healthy up to {rate(lead['healthy_up_to'])} requests per second, so its real "
            "limit is higher than we measured."
        )
    return "Capacity: this run recorded no sign-in requests, so it says nothing about capacity."


def _resource_clause(b: dict[str, Any]) -> str:
    kind = b.get("kind")
    cpu, cores = b.get("target_cpu_percent"), b.get("target_cpu_count")
    if kind in ("cpu", "cpu_per_process") and cpu is not None:
        of = f" of {cores} cores" if cores else ""
        return f", when the server's processors were busy ({cpu:.0f}%{of}, 100% = one core)"
    if kind == "memory" and b.get("rss_growth") is not None:
        return f", while the server's memory use grew {b['rss_growth']:.1f}x"
    if kind == "none" and cpu is not None:
        return (
            f", with processor time to spare ({cpu:.0f}%), so the limit is elsewhere, "
            "for example the database or a connection pool"
        )
    return ""


def _breaks_first_sentence(lead: Finding, findings: list[Finding]) -> str | None:
    cause = of_kind(findings, "cause")
    costed = cause is not None and cause["cost_per_request"] is not None
    if lead["kind"] == "fail_together":
        span = lead["span"]
        text = (
            f"Several steps break together ({', '.join(lead['steps'])})"
            + (
                f", between about {rate(span[0])} and {rate(span[1])} people starting to sign "
                "in per second"
                if span and lead["unit"] == "journeys/s"
                else ""
            )
            + "; the test cannot say which of them goes first"
        )
        if cause and costed:
            text += (
                f". The cause is {_named(cause)}: it used "
                f"{cause['share'] * 100:.0f}% of the server's processor time spent on "
                f"requests{_apportioned(cause)}, and the others wait in line behind it"
            )
        return text + _collapse_sentence(findings) + "."
    if lead["kind"] != "saturates_first":
        return None
    name = lead["step"]
    text = (
        f"It breaks first at {name} ({plain(name)}): at about {rate(lead['offered'])} "
        f"requests per second it reaches its knee, the load where successful requests stop "
        f"keeping up, and it sustains about {rate(lead['capacity'])} per second"
        + _resource_clause(lead["bottleneck"])
    )
    if lead["p95_below"] is not None:
        text += (
            f"; just below that load its p95, the time within which 95% of these "
            f"requests complete, was {ms(lead['p95_below'])}"
        )
    if cause and costed and cause["name"] != name:
        text += (
            f". The cause is {_named(cause)}, which used {cause['share'] * 100:.0f}% of "
            f"the server's processor time spent on requests{_apportioned(cause)}; {name} "
            "waits in line behind it"
        )
    return text + _collapse_sentence(findings) + "."


def _named(cause: Finding) -> str:
    """'login.submit (submitting the sign-in form, ...)', or the journey's name as is."""
    name = str(cause["name"])
    return (
        f"{name} ({plain(name)})" if cause["cause_kind"] == "step" and plain(name) != name else name
    )


def _apportioned(cause: Finding) -> str:
    within = cause["apportioned_in"]
    if not within:
        return ""
    whole = "the steps it always comes with" if within == "its steps" else f"journey {within}"
    return f" (its part of what {whole} used, judged by how long each step takes on an idle server)"


def _collapse_sentence(findings: list[Finding]) -> str:
    f = of_kind(findings, "collapse")
    if f is None:
        return ""
    text = (
        f". Past that, the service collapsed: successful requests fell below "
        f"{f['share'] * 100:.0f}% of their peak of {rate(f['peak_goodput'])} per "
        f"second, down to {rate(f['lowest_goodput'])}, for {f['seconds']:.0f} seconds"
    )
    if "timeout" in f["failures"]:
        # timeouts: people gave up while the server still worked on their requests
        text += ", as people's requests timed out while they waited"
    return text


def _surge_sentence(f: Finding) -> str:
    limiting = f["limiting_step"]
    peak = f["peak_arrivals"]
    planned = (
        f"The planned surge peaks at {rate(peak)} people signing in per second"
        if peak is not None
        else "At the highest load in this test"
    )
    if f["status"] == "fails" and limiting:
        per = "people signing in per second" if f["unit"] == "journeys/s" else "requests per second"
        return (
            f"{planned} and needs {multiple(f['multiple_needed'])} the capacity "
            f"{limiting} has today ({rate(f['peak_demand'])} against "
            f"{rate(f['capacity'])} {per}), so it does not fit without "
            "more capacity or a gentler ramp."
        )
    if f["status"] == "survives" and limiting:
        return (
            f"{planned} and fits, with {multiple(f['headroom'])} headroom (capacity "
            f"divided by what the surge needs) on {limiting}, the tightest step."
        )
    return f"We cannot tell yet whether the surge fits: {f['text']}."


def _slo_sentence(f: Finding) -> str:
    text = (
        "Service-level objectives (SLOs, the response-time and error limits we committed "
        f"to): {f['met']} of {f['judged']} were met"
    )
    if f["failed"]:
        shown = [
            f"{s['slo']} (measured "
            f"{percent(s['measured']) if s['unit'] == 'fraction' else ms(s['measured'])})"
            for s in f["failed"]
        ]
        text += "; missed: " + "; ".join(shown)
    return text + "."
