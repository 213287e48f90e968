"""A comparison as people read it: a text table for the terminal and one figure per step.

Everything here formats ``Comparison.to_json()`` and the two analyses' JSON; the
statistics are in authsurge.analysis.compare.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from typing import Any

import matplotlib
from matplotlib.figure import Figure

from authsurge.analysis.wording import ms, rate
from authsurge.report.plots import STYLE, ideal_line, legend

SYMBOL = {
    "better": "BETTER",
    "worse": "WORSE",
    "no detectable change": "~",
    "not judged": "(not judged)",
}


def change_text(m: dict[str, Any]) -> str:
    """'-31% [-38%, -24%]' (relative change with its interval), or '?' when unknown."""
    if m.get("change") is None:
        return "?"
    text = f"{m['change']:+.0%}"
    if m.get("ci_low") is not None and m.get("ci_high") is not None:
        text += f" [{m['ci_low']:+.0%}, {m['ci_high']:+.0%}]"
    return text


def value_text(m: dict[str, Any], which: str) -> str:
    value = m.get(which)
    if value is None:
        return "?"
    return ms(value) if m.get("unit") == "ms" else f"{rate(value)} {m.get('unit', '')}".strip()


def run_label(info: dict[str, Any]) -> str:
    version = f" (version {info['version']})" if info.get("version") else ""
    return f"{info['id']}{version}"


def compare_text(doc: dict[str, Any]) -> str:
    """The terminal view of `authsurge compare`: verdict first, then each step."""
    lines = [
        f"compare: base {run_label(doc['base'])} -> candidate {run_label(doc['candidate'])} "
        f"(scenario {doc['candidate']['scenario']})",
        f"verdict: {doc['verdict']}",
    ]
    if doc["regressions"]:
        lines.append("worse: " + "; ".join(doc["regressions"]))
    if doc["improvements"]:
        lines.append("better: " + "; ".join(doc["improvements"]))
    lines.append(f"rule: {doc['rule']['text']}")
    lines.append(
        "levels: judged at matched load only; a step's offered load at the same level "
        "differs when retries or an upstream step change it, or by arrival noise"
    )
    for name, step in doc["steps"].items():
        lines += ["", f"{name}: {step['label']}" + (f" ({step['note']})" if step["note"] else "")]
        for key in ("knee", "capacity"):
            m = step[key]
            lines.append(
                f"  {key:9} {value_text(m, 'base'):>18} -> {value_text(m, 'candidate'):<18} "
                f"{change_text(m):<22} {SYMBOL.get(m['label'], m['label'])}"
                + (f"  ({m['note']})" if m["note"] else "")
            )
        for level in step["levels"]:
            head = (
                f"  at {level['label']:>8}: offered {rate(level['base_offered'])} -> "
                f"{rate(level['candidate_offered'])} req/s"
            )
            if not level["judged"]:
                lines.append(f"{head}; {level['note']}")
                continue
            parts = [
                f"{k} {change_text(m)} {SYMBOL.get(m['label'], m['label'])}"
                for k, m in level["metrics"].items()
            ]
            lines.append(f"{head}; " + ", ".join(parts))
    for warning in doc["warnings"]:
        lines.append(f"warning: {warning}")
    return "\n".join(lines)


def comparison_figure(
    doc: dict[str, Any], base: dict[str, Any], candidate: dict[str, Any]
) -> Figure:
    """Both runs' capacity curves, one panel per step, knees marked (candidate with its interval).

    `base` and `candidate` are the two analysis.json documents, `doc` the comparison's JSON.
    """
    names = list(doc["steps"]) or ["(none)"]
    cols = min(3, len(names))
    rows = math.ceil(len(names) / cols)
    fig = Figure(figsize=(4.4 * cols, 3.6 * rows + 0.7), dpi=110, layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        ax.set_xlabel("offered load (req/s)")
        ax.set_ylabel("goodput (successful req/s)")
        step = doc["steps"].get(name)
        if step is None:
            ax.set_title(name)
            continue
        ax.set_title(f"{name}: {step['label']}", color=_label_color(step["label"]))
        top = 0.0
        for run, color, tag in ((base, "C0", "base"), (candidate, "C1", "candidate")):
            curve = sorted(
                run["steps"].get(name, {}).get("curve", []), key=lambda p: p["offered"] or 0
            )
            xs = [p["offered"] for p in curve]
            ys = [p["goodput"] for p in curve]
            if xs:
                ax.plot(
                    xs,
                    ys,
                    marker="o",
                    markersize=3.5,
                    color=color,
                    label=f"{tag} {run['run']['id'][:24]}",
                )
                top = max(top, max(x or 0 for x in xs), max(y or 0 for y in ys))
        knee = step["knee"]
        reached = step.get("knee_reached") or {}
        for value, capacity, color, which in (
            (knee["base"], step["capacity"]["base"], "C0", "base"),
            (knee["candidate"], step["capacity"]["candidate"], "C1", "candidate"),
        ):
            if value is None or capacity is None or not reached.get(which, True):
                continue  # no knee in that run: nothing to mark
            ax.plot(
                [value],
                [capacity],
                marker="X",
                markersize=10,
                color=color,
                markeredgecolor="black",
                linestyle="none",
            )
        if (
            knee["base"] is not None
            and knee["ci_low"] is not None
            and knee["ci_high"] is not None
            and step["capacity"]["candidate"] is not None
        ):
            lo = knee["base"] * (1 + knee["ci_low"])
            hi = knee["base"] * (1 + knee["ci_high"])
            ax.plot(
                [lo, hi],
                [step["capacity"]["candidate"]] * 2,
                color="C1",
                linewidth=3,
                alpha=0.5,
                solid_capstyle="butt",
                label=f"candidate knee, {knee['confidence']:.0%} interval",
            )
        if top > 0:
            ideal_line(ax, top, linewidth=0.8)
        legend(ax, loc="upper left", fontsize=7)
    for ax in list(axes.flat)[len(names) :]:
        ax.set_visible(False)
    fig.suptitle(f"Capacity curves, base vs candidate (X: knee); verdict: {doc['verdict']}")
    return fig


def _label_color(label: str) -> str:
    return {"worse": "#b00020", "better": "#1b7f3b"}.get(label, "black")


def render_png(build: Callable[[], Figure]) -> bytes:
    """Build a figure under the house style (it applies when artists are made) and return PNG bytes."""
    out = io.BytesIO()
    with matplotlib.rc_context(STYLE):  # type: ignore[arg-type]
        build().savefig(out, format="png", metadata={"Software": None})  # no timestamp
    return out.getvalue()
