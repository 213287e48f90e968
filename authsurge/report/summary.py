"""The leadership summary: one page, three to five plain sentences and one figure.

    from authsurge.report.summary import write_summary
    files = write_summary("runs/<id>", baseline="runs/<last release>")
    files.markdown, files.pdf       # summary.md (+ summary.png), summary.pdf when Chromium exists

The sentences say what capacity we have, where it breaks first, whether the API of the
people already signed in stayed up while sign-in failed (with a population), what the
surge needs, whether sign-in recovered after it (when the load fell back below capacity),
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

from authsurge.analysis.wording import sentences
from authsurge.report.html_report import data_uri, environment, utc
from authsurge.report.inputs import load_with_baseline

if TYPE_CHECKING:
    from authsurge.analysis.compare import CompareRule

Progress = Callable[[str], None]


@dataclass
class SummaryFiles:
    markdown: Path
    figure: Path | None
    pdf: Path | None
    sentences: list[str]
    pdf_note: str = ""


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
    return sentences(doc["findings"]) + [_change_sentence(compare)]


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
