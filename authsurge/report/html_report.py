"""The HTML report of a run: one self-contained file that opens offline.

    from authsurge.report.html_report import write_report
    path = write_report("runs/<id>")                     # runs/<id>/report.html
    path = write_report("runs/<id>", baseline="runs/<older id>")   # with a compare section

Inline CSS, figures as base64 PNG data: URIs, no script and no link to anything outside
the file (a Content-Security-Policy meta tag forbids any fetch but data: images). The
numbers are analysis.json's (re-analysed when missing or stale, see
authsurge.report.inputs); this module only formats them.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from authsurge import __version__
from authsurge.analysis.wording import headline, ms, multiple, percent, rate, tiles
from authsurge.report.inputs import ReportInputs, load_inputs, load_with_baseline
from authsurge.report.sizing_table import prediction_context, sizing_context

if TYPE_CHECKING:
    from authsurge.analysis.compare import CompareRule

Progress = Callable[[str], None]
SHORTFALL_ROWS = 30

FIGURE_TEXT = {
    "capacity": (
        "Capacity curves",
        "Goodput against offered load per step, steady state only; "
        "the dashed line is goodput = offered, X marks each step's knee.",
    ),
    "latency": (
        "Latency percentiles",
        "p50, p90, p95 and p99 against offered load, one panel per "
        "step; the dotted line is the step's knee.",
    ),
    "errors": (
        "Error rate",
        "Share of completed requests that failed, against offered load; "
        "dotted lines are the knees.",
    ),
    "timeline": (
        "Timeline",
        "Arrivals, goodput and errors per second over the run, with each "
        "step's knee and the target's CPU (right axis).",
    ),
    "step_groups": (
        "Sign-in against the API of signed-in people",
        "Error rate and p95 over time of the surge's sign-in and sign-out steps and of the "
        "API of the people already signed in (p95: the group's slowest step); shaded, the "
        "surge's sign-in arrivals (right axis); dashed lines, where the planned load fell "
        "below capacity and where sign-in recovered.",
    ),
}


def write_report(
    run_dir: str | Path,
    out: str | Path | None = None,
    *,
    baseline: str | Path | None = None,
    force: bool = False,
    progress: Progress | None = None,
    rule: CompareRule | None = None,
) -> Path:
    """Write the HTML report of a run (default RUN_DIR/report.html) and return its path.

    `baseline`: an earlier run of the same scenario to compare with (BadInput when the
    scenarios differ, unless `force`); `rule`: an authsurge.analysis.compare.CompareRule.
    """
    run_dir = Path(run_dir)
    inputs, comparison = load_with_baseline(run_dir, baseline, rule, force, progress)
    prediction = None
    if baseline is not None:  # what `plan` on the baseline says of this run's mix
        from authsurge.analysis.plan import predicted_vs_measured

        prediction = predicted_vs_measured(load_inputs(baseline).doc, inputs.doc)
    if progress:
        progress("render")
    html = render_report(inputs, comparison, prediction)
    path = Path(out) if out is not None else run_dir / "report.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, path)
    return path


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("authsurge.report", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,  # a missing value is a bug, not an empty cell
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def render_report(
    inputs: ReportInputs, comparison: Any = None, prediction: dict[str, Any] | None = None
) -> str:
    doc, meta = inputs.doc, inputs.meta
    css = resources.files("authsurge.report").joinpath("templates/report.css").read_text("utf-8")
    context = {
        "css": css,
        "run": doc["run"],
        "version": __version__,
        "target_version": (meta.get("target") or {}).get("version"),
        "started": utc(doc["run"].get("started_at")),
        "duration": seconds(doc["run"].get("duration_s")),
        "verdict": doc["verdict"],
        "verdict_class": doc["verdict"]["status"],
        "headline": headline(doc["findings"]),
        "facts": tiles(doc["findings"]),
        "slos": slo_rows(doc),
        "figures": [
            {
                "name": name,
                "title": FIGURE_TEXT[name][0],
                "caption": FIGURE_TEXT[name][1],
                "uri": data_uri(path.read_bytes()),
            }
            for name, path in inputs.figures.items()
        ],
        "steps": step_rows(doc),
        "ranking": ranking_rows(doc),
        "knee_rule": _first_step(doc, lambda s: s["knee"]["rule"]) or "",
        "curve_rule": doc["curves"]["rule"],
        "metadata": metadata_rows(doc, meta),
        "harness": [],
        "shortfall": [],
        "shortfall_more": 0,
        "warnings": doc["warnings"],
        "command": meta.get("command") or "(not recorded)",
        "compare": compare_context(comparison) if comparison is not None else None,
        "prediction": prediction_context(prediction),
        "sizing": sizing_context(doc.get("sizing")),
    }
    health = doc["harness"]
    context["harness"] = harness_rows(health, doc)
    t0 = doc["run"].get("started_at") or 0
    windows = health["shortfall"]
    context["shortfall"] = [
        {
            "start": f"{w.get('start', 0) - t0:.0f}",
            "end": f"{w.get('end', 0) - t0:.0f}",
            "planned": w.get("planned", ""),
            "started": w.get("started", ""),
            "dropped": w.get("dropped", ""),
            "late": w.get("late", ""),
            "max_lag_s": w.get("max_lag_s", ""),
        }
        for w in windows[:SHORTFALL_ROWS]
    ]
    context["shortfall_more"] = max(0, len(windows) - SHORTFALL_ROWS)
    return environment().get_template("report.html").render(**context)


# --- formatting ----------------------------------------------------------------------


def utc(epoch: Any) -> str:
    if not isinstance(epoch, int | float):
        return "?"
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def seconds(x: Any) -> str:
    if not isinstance(x, int | float):
        return "duration unknown"
    return f"{x:,.0f} s" if x < 120 else f"{x / 60:,.1f} min"


def _first_step(doc: dict[str, Any], get: Callable[[dict[str, Any]], Any]) -> Any:
    for step in doc["steps"].values():
        return get(step)
    return None


def _slo_value(s: dict[str, Any], value: Any) -> str:
    if value is None:
        return "?"
    return percent(value) if s.get("unit") == "fraction" else ms(value)


def slo_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for s in doc["slos"]:
        passed = s.get("passed")
        result = (
            "met"
            if passed
            else "BREACHED"
            if passed is False
            else f"not judged ({s.get('note', '')})"
        )
        rows.append(
            {
                "slo": s["slo"],
                "measured": _slo_value(s, s.get("measured")),
                "worst_step": s.get("worst_step"),
                "result": result,
                "css": "pass" if passed else "fail" if passed is False else "muted",
            }
        )
    return rows


def step_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    verdict_steps = doc["verdict"].get("steps") or {}
    for name, s in doc["steps"].items():
        knee = s["knee"]
        v = verdict_steps.get(name) or {}
        top = s["top_errors"][0] if s["top_errors"] else None
        bound = " (lower bound)" if knee.get("capacity_is_lower_bound") else ""
        rows.append(
            {
                "name": name,
                "requests": f"{s['requests']:,}",
                "error_rate": percent(s["error_rate"]),
                "p50": ms(s["p50"]),
                "p95": ms(s["p95"]),
                "p99": ms(s["p99"]),
                "knee_offered": rate(knee["offered"]) if knee["reached"] else "not reached",
                "knee_arrivals": rate(knee["arrivals"]) if knee["reached"] else "",
                "capacity": f"{rate(knee['capacity'])}{bound}",
                "per_vcpu": rate(s["bottleneck"].get("capacity_per_vcpu"))
                if s["bottleneck"].get("capacity_per_vcpu") is not None
                else "",
                "peak_demand": rate(v.get("peak_demand"))
                if v.get("peak_demand") is not None
                else "",
                "headroom": ("≥ " if v.get("capacity_is_lower_bound") else "")
                + multiple(v.get("headroom"))
                if v.get("headroom") is not None
                else "",
                "reason": knee["reason"],
                "bottleneck": s["bottleneck"].get("text") or "",
                "top_error": f"{top['reason']} ({top['count']:,})" if top else "",
                "harness_warning": s["bottleneck"].get("harness_warning"),
            }
        )
    return rows


def ranking_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for r in doc["first_to_fail"]:
        margin = ""
        if r.get("margin_to_next") is not None:
            margin = (">" if r.get("margin_is_lower_bound") else "") + f"{r['margin_to_next']:.2f}x"
        if not r.get("judged", True):
            knee = "not judged"
            reason = r["not_judged_reason"]
        elif r["reached"]:
            knee = rate(r["knee"])
            if r.get("knee_interval"):
                lo, hi = r["knee_interval"]
                knee += f" ({rate(lo)}-{rate(hi)})"
            reason = r["reason"]
            if r.get("fails_together_with"):
                reason += f"; fails together with {', '.join(r['fails_together_with'])}"
        else:
            knee = f"none (healthy to {rate(r['healthy_up_to'])})"
            reason = r["reason"]
        rows.append(
            {
                "rank": "-" if r["rank"] is None else r["rank"],
                "step": r["step"],
                "rank_by": r["rank_by"],
                "knee": knee,
                "reason": reason,
                "margin": margin,
            }
        )
    return rows


def metadata_rows(doc: dict[str, Any], meta: dict[str, Any]) -> list[tuple[str, str]]:
    target: dict[str, Any] = meta.get("target") or {}
    target = target if isinstance(target, dict) else {}
    harness = meta.get("harness") or {}
    traffic = meta.get("traffic") or {}
    config = doc["config"]
    rows = [
        (
            "scenario",
            f"{meta.get('scenario', '?')}"
            + (f" ({meta['scenario_file']})" if meta.get("scenario_file") else ""),
        ),
        ("target", target.get("base_url") or "?"),
        ("target version", target.get("version") or "not given (scenario target.version)"),
        ("target commit", target.get("git_commit") or "not given"),
        ("run", f"{doc['run']['id']}, status {meta.get('status', '?')}"),
        ("started / ended (UTC)", f"{utc(meta.get('started_at'))} / {utc(meta.get('ended_at'))}"),
        ("duration", seconds(meta.get("duration_s"))),
        (
            "traffic",
            f"{traffic.get('model', '?')} model, shape {traffic.get('shape', '?')}, "
            f"arrivals {traffic.get('arrivals', '?')}"
            + (f", rate scale {traffic['rate_scale']}" if traffic.get("rate_scale") else ""),
        ),
        ("records", f"{doc['run']['records']:,} in {len(doc['run']['shards'])} shard(s)"),
        (
            "harness",
            ", ".join(
                f"{k} {harness[k]}" for k in ("authsurge", "locust", "python") if harness.get(k)
            )
            or "?",
        ),
        (
            "load generator host",
            f"{harness.get('host', '?')}, {harness.get('cpu_count', '?')} CPUs, "
            f"{harness.get('workers', '?')} worker(s)",
        ),
        (
            "analysis settings",
            f"window {config['window_s']:g} s, settle {config['settle_s']:g} s, "
            f"knee at goodput < {config['goodput_share']:.0%} of offered"
            + (f" or p95 > {config['knee_p95_ms']:g} ms" if config.get("knee_p95_ms") else ""),
        ),
    ]
    retry = doc["retry"]
    if retry.get("available"):
        rows.append(
            (
                "retries",
                f"{retry['amplification']:.2f} attempts per person "
                f"({retry['retries']:,} retries by {retry['persons']:,} people)",
            )
        )
    return rows


def harness_rows(health: dict[str, Any], doc: dict[str, Any]) -> list[tuple[str, str]]:
    rows = []
    if health["peak_cpu_percent"] is not None:
        rows.append(
            (
                "generator CPU, peak",
                f"{health['peak_cpu_percent']:.0f}% of a core "
                "(busiest worker; near 100% the generator may be the limit)",
            )
        )
    if health["mean_cpu_percent"]:
        rows.append(
            (
                "generator CPU, mean",
                ", ".join(f"{w} {c:.0f}%" for w, c in health["mean_cpu_percent"].items()),
            )
        )
    if health["peak_loop_lag_ms"] is not None:
        rows.append(("event-loop lag, worst", f"{health['peak_loop_lag_ms']:.0f} ms"))
    dropped = doc["dropped"]
    rows.append(
        (
            "dropped journeys",
            f"{dropped['count']:,}"
            + (
                f" ({percent(dropped['share'])} of arrivals; concurrency cap reached)"
                if dropped["count"]
                else ""
            ),
        )
    )
    if health["planned_journeys"] is not None:
        rows.append(
            (
                "journeys planned / started",
                f"{health['planned_journeys']:,} / {health['started_journeys'] or 0:,}",
            )
        )
    generator = doc.get("generator")  # analysis.json's generator-bound seconds, when present
    if isinstance(generator, dict) and generator.get("sampled"):
        bound = generator.get("bound_s")
        share = generator.get("share_of_run")
        rows.append(
            (
                "generator-bound time",
                "none"
                if not bound
                else f"{bound:,.0f} s ({percent(share)} of the run): the client, not the target, "
                "was the limit then",
            )
        )
    n = len(health["shortfall"])
    rows.append(("arrivals on schedule", "yes" if n == 0 else f"no: {n} window(s) short"))
    warned = [
        f"{name}: {s['bottleneck']['harness_warning']}"
        for name, s in doc["steps"].items()
        if s["bottleneck"].get("harness_warning")
    ]
    rows.append(("harness at the knees", "; ".join(warned) if warned else "no warning"))
    return rows


def compare_context(comparison: Any) -> dict[str, Any]:
    from authsurge.report.compare import (
        SYMBOL,
        change_text,
        comparison_figure,
        render_png,
        value_text,
    )

    doc = comparison.to_json()
    rows, level_rows = [], []
    for name, step in doc["steps"].items():
        for key in ("knee", "capacity"):
            m = step[key]
            rows.append(_compare_row(name, f"{key} ({m['unit']})", m, value_text, change_text))
        for level in step["levels"]:
            if not level["judged"]:
                continue
            level_rows.append(
                {
                    "step": name,
                    "level": level["label"],
                    "offered": f"{rate(level['base_offered'])} / {rate(level['candidate_offered'])}",
                    "cells": [
                        {
                            "text": f"{change_text(m)} {SYMBOL.get(m['label'], '')}".strip(),
                            "css": {"worse": "worse", "better": "better"}.get(m["label"], ""),
                            "title": f"{value_text(m, 'base')} -> {value_text(m, 'candidate')}",
                        }
                        for m in (level["metrics"][k] for k in ("goodput", "p50", "p95", "p99"))
                    ],
                }
            )
    base_doc, cand_doc = comparison.base.to_json(), comparison.candidate.to_json()
    png = render_png(lambda: comparison_figure(doc, base_doc, cand_doc))
    judged = ", ".join(
        f"{name} {step['levels_judged']} of {len(step['levels'])}"
        for name, step in doc["steps"].items()
    )
    return {
        "base": doc["base"]["id"],
        "candidate": doc["candidate"]["id"],
        "judged": judged,
        "verdict": doc["verdict"],
        "verdict_class": {"regression": "worse", "improvement": "better"}.get(doc["verdict"], ""),
        "rule": doc["rule"]["text"],
        "rows": rows,
        "level_rows": level_rows,
        "figure": data_uri(png),
        "confidence": f"{doc['rule']['confidence']:.0%}",
        "warnings": doc["warnings"],
    }


def _compare_row(
    step: str, metric: str, m: dict[str, Any], value_text: Any, change_text: Any
) -> dict[str, str]:
    return {
        "step": step,
        "metric": metric,
        "base": value_text(m, "base"),
        "candidate": value_text(m, "candidate"),
        "change": change_text(m),
        "label": m["label"],
        "css": {"worse": "worse", "better": "better"}.get(m["label"], ""),
        "note": m["note"],
    }
