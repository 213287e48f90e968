"""The leadership summary: one page, three to five plain sentences and one figure.

    from authsurge.report.summary import write_summary
    files = write_summary("runs/<id>", baseline="runs/<last release>")
    files.markdown, files.pdf       # summary.md (+ summary.png), summary.pdf when Chromium exists

The sentences say what capacity we have, where it breaks first, what the surge needs,
whether the SLOs held (when there are any) and what changed since the baseline. Every
number is analysis.json's (or the comparison's), formatted as the analysis summary
formats it, so the page and the JSON agree. Terms are explained where they first appear.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from authsurge.analysis.cause import cause_name
from authsurge.analysis.collapse import COLLAPSE_SHARE
from authsurge.analysis.knee import nothing_judged
from authsurge.analysis.ranking import ARRIVALS, group_interval, together
from authsurge.analysis.summary import ms, multiple, percent, rate
from authsurge.report.html import data_uri, environment, utc
from authsurge.report.inputs import load_with_baseline

if TYPE_CHECKING:
    from authsurge.analysis.compare import CompareRule

Progress = Callable[[str], None]

PLAIN_STEPS = {
    "login.form": "loading the sign-in page",
    "login.submit": "submitting the sign-in form, where the password is checked",
    "logout": "signing out",
    "oidc.discovery": "looking up the sign-in configuration",
    "oidc.authorize": "starting a single sign-on request",
    "oidc.login_form": "loading the single sign-on page",
    "oidc.login_submit": "submitting the single sign-on form, where the password is checked",
    "oidc.consent": "the consent screen",
    "oidc.token": "exchanging the sign-in code for access tokens",
    "token.refresh": "renewing access tokens",
    "token.introspect": "checking access tokens",
    "token.revoke": "revoking access tokens",
    "oidc.userinfo": "fetching the signed-in user's profile",
    "token.client_credentials": "issuing service-to-service tokens",
    "api.call": "calling the app's API",
    "oidc.logout": "signing out of single sign-on",
}


@dataclass
class SummaryFiles:
    markdown: Path
    figure: Path | None
    pdf: Path | None
    sentences: list[str]
    pdf_note: str = ""


def plain(step: str) -> str:
    return PLAIN_STEPS.get(step, step)


def _capacity_sentence(doc: dict[str, Any]) -> str:
    ranked = doc["first_to_fail"]
    first = ranked[0] if ranked else None
    if first and first["reached"]:
        knee = doc["steps"][first["step"]]["knee"]
        if knee.get("arrivals") is not None:
            return (
                f"Capacity: this deployment handles about {rate(knee['arrivals'])} people "
                "starting to sign in per second before its first step stops keeping up; "
                "beyond that, sign-ins fail or wait."
            )
        return (
            f"Capacity: this deployment handles about {rate(knee['capacity'])} successful "
            f"{first['step']} requests per second before that step stops keeping up."
        )
    if nothing_judged(ranked):
        return (
            "Capacity: this test was too short or too light to say; each load level needs "
            "more requests before a limit can be judged."
        )
    if ranked:
        best = ranked[-1]
        return (
            f"Capacity: no step reached its limit in this test; the sign-in path stayed "
            f"healthy up to {rate(best['healthy_up_to'])} requests per second, so its real "
            "limit is higher than we measured."
        )
    return "Capacity: this run recorded no sign-in requests, so it says nothing about capacity."


def _resource_clause(bottleneck: dict[str, Any]) -> str:
    kind = bottleneck.get("kind")
    cpu, cores = bottleneck.get("target_cpu_percent"), bottleneck.get("target_cpu_count")
    if kind in ("cpu", "cpu_per_process") and cpu is not None:
        of = f" of {cores} cores" if cores else ""
        return f", when the server's processors were busy ({cpu:.0f}%{of}, 100% = one core)"
    if kind == "memory" and bottleneck.get("rss_growth") is not None:
        return f", while the server's memory use grew {bottleneck['rss_growth']:.1f}x"
    if kind == "none" and cpu is not None:
        return (
            f", with processor time to spare ({cpu:.0f}%), so the limit is elsewhere, "
            "for example the database or a connection pool"
        )
    return ""


def _breaks_first_sentence(doc: dict[str, Any]) -> str | None:
    ranked = doc["first_to_fail"]
    if not ranked or not ranked[0]["reached"]:
        return None
    group = together(ranked)
    cause = doc.get("cause")
    if len(group) > 1:
        names = [e["step"] for e in group]
        span = group_interval(group)
        text = (
            f"Several steps break together ({', '.join(names)})"
            + (
                f", between about {rate(span[0])} and {rate(span[1])} people starting to sign "
                "in per second"
                if span and group[0]["rank_by"] == ARRIVALS
                else ""
            )
            + "; the test cannot say which of them goes first"
        )
        if cause and cause.get("cost_per_request") is not None:
            text += (
                f". The cause is {cause_name(cause)}: it used "
                f"{cause['share'] * 100:.0f}% of the server's processor time spent on "
                "requests, and the others wait in line behind it"
            )
        return text + _collapse_sentence(doc) + "."
    name = ranked[0]["step"]
    step = doc["steps"][name]
    knee = step["knee"]
    text = (
        f"It breaks first at {name} ({plain(name)}): at about {rate(knee['offered'])} "
        f"requests per second it reaches its knee, the load where successful requests stop "
        f"keeping up, and it sustains about {rate(knee['capacity'])} per second"
        + _resource_clause(step["bottleneck"])
    )
    below = [
        p
        for p in step["curve"]
        if p.get("offered") is not None
        and p.get("p95") is not None
        and p["offered"] < knee["offered"]
    ]
    if below:
        p95 = max(below, key=lambda p: p["offered"])["p95"]
        text += (
            f"; just below that load its p95, the time within which 95% of these "
            f"requests complete, was {ms(p95)}"
        )
    if cause and cause_name(cause) != name and cause.get("cost_per_request") is not None:
        text += (
            f". The cause is {cause_name(cause)}, which used {cause['share'] * 100:.0f}% of "
            f"the server's processor time spent on requests; {name} waits in line behind it"
        )
    return text + _collapse_sentence(doc) + "."


def _collapse_sentence(doc: dict[str, Any]) -> str:
    collapse = doc.get("collapse")
    if not collapse:
        return ""
    text = (
        f". Past that, the service collapsed: successful requests fell below "
        f"{COLLAPSE_SHARE * 100:.0f}% of their peak of {rate(collapse['peak_goodput'])} per "
        f"second, down to {rate(collapse['lowest_goodput'])}, for "
        f"{collapse['seconds']:.0f} seconds"
    )
    if "timeout" in (collapse.get("failures") or {}):
        # timeouts: people gave up while the server still worked on their requests
        text += ", as people's requests timed out while they waited"
    return text


def _surge_sentence(doc: dict[str, Any]) -> str:
    verdict = doc["verdict"]
    limiting = verdict.get("limiting_step")
    peak = verdict.get("peak_arrivals")
    planned = (
        f"The planned surge peaks at {rate(peak)} people signing in per second"
        if peak is not None
        else "At the highest load in this test"
    )
    if verdict["status"] == "fails" and limiting:
        step = verdict["steps"][limiting]
        per = (
            "people signing in per second"
            if step.get("unit") == "journeys/s"
            else "requests per second"
        )
        return (
            f"{planned} and needs {multiple(verdict['multiple_needed'])} the capacity "
            f"{limiting} has today ({rate(step['peak_demand'])} against "
            f"{rate(step['capacity'])} {per}), so it does not fit without "
            "more capacity or a gentler ramp."
        )
    if verdict["status"] == "survives" and limiting:
        step = verdict["steps"][limiting]
        return (
            f"{planned} and fits, with {multiple(step['headroom'])} headroom (capacity "
            f"divided by what the surge needs) on {limiting}, the tightest step."
        )
    return f"We cannot tell yet whether the surge fits: {verdict['text']}."


def _slo_sentence(doc: dict[str, Any]) -> str | None:
    judged = [s for s in doc["slos"] if s.get("passed") is not None]
    if not judged:
        return None
    failed = [s for s in judged if not s["passed"]]
    text = (
        "Service-level objectives (SLOs, the response-time and error limits we committed "
        f"to): {len(judged) - len(failed)} of {len(judged)} were met"
    )
    if failed:
        shown = [
            f"{s['slo']} (measured {percent(s['measured']) if s['unit'] == 'fraction' else ms(s['measured'])})"
            for s in failed
        ]
        text += "; missed: " + "; ".join(shown)
    return text + "."


def _change_sentence(compare: dict[str, Any] | None) -> str:
    if compare is None:
        return (
            "No earlier run was given to compare with, so this page does not say what "
            "changed since the last release."
        )
    base = compare["base"]
    label = f"version {base['version']}" if base.get("version") else f"run {base['id']}"
    conf = f"{compare['rule']['confidence']:.0%}"
    changes = []
    for name, step in compare["steps"].items():
        if step["label"] == "no detectable change":
            continue
        m = next((step[k] for k in ("capacity", "knee") if step[k]["label"] == step["label"]), None)
        if m is None:
            what = next(
                f"{x['name']} at {lv['label']}"
                for lv in step["levels"]
                for x in lv["metrics"].values()
                if x["label"] == step["label"]
            )
            changes.append(f"{name} is {step['label']} ({what})")
            continue
        direction = "higher" if m["change"] > 0 else "lower"
        interval = ""
        if m.get("ci_low") is not None:
            near, far = sorted((abs(m["ci_low"]), abs(m["ci_high"])))
            interval = f", between {near:.0%} and {far:.0%} {direction} with {conf} confidence"
        changes.append(f"{name} {m['name']} is {abs(m['change']):.0%} {direction}{interval}")
    if not changes:
        return (
            f"Compared with {label}, nothing changed by {compare['rule']['min_effect']:.0%} "
            f"or more that this test can detect with {conf} confidence."
        )
    return f"Compared with {label}: " + "; ".join(changes) + "."


def summary_sentences(doc: dict[str, Any], compare: dict[str, Any] | None = None) -> list[str]:
    """Three to five sentences, from analysis.json and an optional comparison's JSON."""
    out = [
        _capacity_sentence(doc),
        _breaks_first_sentence(doc),
        _surge_sentence(doc),
        _slo_sentence(doc),
        _change_sentence(compare),
    ]
    return [s for s in out if s]


FIGURE_CAPTION = (
    "Successful requests per second (up) against requests per second sent "
    "(across), one line per step; where a line bends away from the dashed "
    "diagonal, that step has stopped keeping up (its knee, marked X)."
)


def summary_markdown(
    doc: dict[str, Any], meta: dict[str, Any], sentences: list[str], figure: str | None
) -> str:
    target: dict[str, Any] = meta.get("target") or {}
    target = target if isinstance(target, dict) else {}
    version = f" (version {target['version']})" if target.get("version") else ""
    lines = [
        f"# Sign-in surge readiness: {doc['run']['scenario']}",
        "",
        f"*Run {doc['run']['id']}, {utc(doc['run'].get('started_at'))} UTC, against "
        f"{doc['run'].get('target') or '?'}{version}.*",
        "",
    ]
    for sentence in sentences:
        lines += [sentence, ""]
    if figure:
        lines += [f"![Capacity curves]({figure})", "", f"*{FIGURE_CAPTION}*", ""]
    lines += [
        "---",
        "",
        f"Full report: `report.html` in the run directory. To reproduce: "
        f"`{meta.get('command') or 'not recorded'}`",
        "",
    ]
    return "\n".join(lines)


def write_summary(
    run_dir: str | Path,
    out_dir: str | Path | None = None,
    *,
    baseline: str | Path | None = None,
    force: bool = False,
    pdf: bool = True,
    progress: Progress | None = None,
    rule: CompareRule | None = None,
) -> SummaryFiles:
    """Write summary.md (+ summary.png) and, when Chromium is available, summary.pdf."""
    run_dir = Path(run_dir)
    out = Path(out_dir) if out_dir is not None else run_dir
    out.mkdir(parents=True, exist_ok=True)
    inputs, comparison = load_with_baseline(run_dir, baseline, rule, force, progress)
    compare_doc = comparison.to_json() if comparison is not None else None
    sentences = summary_sentences(inputs.doc, compare_doc)
    figure = None
    if "capacity" in inputs.figures:
        figure = out / "summary.png"
        shutil.copyfile(inputs.figures["capacity"], figure)
    md = out / "summary.md"
    md.write_text(
        summary_markdown(inputs.doc, inputs.meta, sentences, figure.name if figure else None),
        encoding="utf-8",
    )
    files = SummaryFiles(md, figure, None, sentences)
    if pdf:
        files.pdf, files.pdf_note = _write_pdf(
            inputs.doc, inputs.meta, sentences, figure, out / "summary.pdf"
        )
    return files


def _write_pdf(
    doc: dict[str, Any], meta: dict[str, Any], sentences: list[str], figure: Path | None, path: Path
) -> tuple[Path | None, str]:
    from authsurge.report.chromium import find_chromium, print_pdf

    if find_chromium() is None:
        return None, "no Chromium found: summary.pdf not written (apt-get install chromium)"
    target: dict[str, Any] = meta.get("target") or {}
    target = target if isinstance(target, dict) else {}
    html = (
        environment()
        .get_template("summary.html")
        .render(
            run=doc["run"],
            started=utc(doc["run"].get("started_at")),
            version=target.get("version"),
            sentences=sentences,
            figure=data_uri(figure.read_bytes()) if figure else None,
            caption=FIGURE_CAPTION,
            command=meta.get("command") or "not recorded",
        )
    )
    with tempfile.TemporaryDirectory(prefix="authsurge-summary-") as tmp:
        page = Path(tmp) / "summary.html"
        page.write_text(html, encoding="utf-8")
        try:
            print_pdf(page, path)
        except (RuntimeError, OSError) as exc:  # the Markdown stands on its own
            return None, f"summary.pdf not written: {exc}"
    return path, ""
