"""Run history: the runs under a folder, newest first, with their key numbers.

Each row comes from a run's meta.json and, when the run was analysed, its analysis.json
(runs never analysed have no knees: `authsurge analyze` them first). Nothing here
analyses: a history of a hundred runs lists in milliseconds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from authsurge.analysis.wording import short_story
from authsurge.errors import RunDirError
from authsurge.rundir import read_meta


def list_runs(
    root: Path, scenario: str | None = None, target: str | None = None
) -> list[dict[str, Any]]:
    """One row per run directory with a readable meta.json (others are skipped), newest first.

    `target` matches a substring of the target URL or its version label.
    Row keys: run_id, path, scenario, status, target, version, git_commit, started_at,
    journeys, first_to_fail, story (the lead finding in a few words, when the analysis has
    findings), verdict, analysed, knees {step: {offered, capacity, reached}}.
    """
    rows = []
    for meta_path in Path(root).glob("*/meta.json"):
        try:
            meta = read_meta(meta_path.parent).as_dict()
        except RunDirError:  # not a run directory we can read: not part of the history
            continue
        target_info = meta.get("target") or {}
        target_info = target_info if isinstance(target_info, dict) else {}
        base_url = target_info.get("base_url") or ""
        version = target_info.get("version") or ""
        if scenario and meta.get("scenario") != scenario:
            continue
        if target and target not in base_url and target != version:
            continue
        analysis = _read_analysis(meta_path.parent / "analysis.json")
        findings = analysis.get("findings")
        ranked = analysis.get("first_to_fail") or []
        first = ""
        if ranked:
            top = ranked[0]
            first = top.get("step", "") if isinstance(top, dict) else str(top)
        knees = {}
        for name, step in (analysis.get("steps") or {}).items():
            knee = step.get("knee") or {}
            knees[name] = {
                "offered": knee.get("offered"),
                "capacity": knee.get("capacity"),
                "reached": bool(knee.get("reached")),
            }
        rows.append(
            {
                "run_id": meta_path.parent.name,
                "path": str(meta_path.parent),
                "scenario": meta.get("scenario", "?"),
                "status": meta.get("status", "?"),
                "target": base_url,
                "version": version,
                "git_commit": target_info.get("git_commit") or "",
                "started_at": meta.get("started_at"),
                "journeys": (meta.get("traffic") or {}).get("started_journeys", ""),
                "first_to_fail": first,
                "story": _story(findings),
                "verdict": (analysis.get("verdict") or {}).get("status", ""),
                "analysed": bool(analysis),
                "knees": knees,
            }
        )
    # newest first by start time; directory names (UTC timestamps) break ties and fill gaps
    rows.sort(key=lambda r: (_number(r["started_at"]), r["run_id"]), reverse=True)
    return rows


def _story(findings: Any) -> str:
    """The lead in a few words; "" for an analysis.json without findings (or with findings
    of another shape: a listing of a hundred runs must not fail on one)."""
    try:
        return short_story(findings) if isinstance(findings, list) else ""
    except (KeyError, TypeError, ValueError):
        return ""


def _read_analysis(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _number(x: Any) -> float:
    return float(x) if isinstance(x, int | float) else float("-inf")


def format_table(rows: list[dict[str, Any]]) -> str:
    """The `authsurge runs` listing: one line per run."""
    head = (
        f"{'run':44} {'scenario':18} {'status':11} {'version':10} {'target':26} "
        f"{'journeys':>8}  {'first to fail (knee, req/s offered)'}"
    )
    lines = [head]
    for r in rows:
        first = r["first_to_fail"]
        knee = (r["knees"].get(first) or {}) if first else {}
        if r.get("story"):
            first = r["story"]  # the analysis's own lead: a tie, a broken flow, the client
        elif first and knee.get("reached") and knee.get("offered") is not None:
            first = f"{first} ({knee['offered']:,.4g})"
        elif first:
            first = f"{first} (no knee)"
        elif not r["analysed"]:
            first = "(not analysed)"
        lines.append(
            f"{r['run_id']:44} {str(r['scenario']):18} {str(r['status']):11} "
            f"{str(r['version'] or '-'):10} {r['target']:26} {str(r['journeys']):>8}  {first}"
        )
    return "\n".join(lines)
