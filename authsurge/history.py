"""Run history: the runs under a folder, newest first, with their key numbers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def list_runs(root: Path, scenario: str | None = None, target: str | None = None) -> list[dict[str, Any]]:
    """One row per run directory with a readable meta.json (others are skipped)."""
    rows = []
    for meta_path in sorted(Path(root).glob("*/meta.json"), reverse=True):
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        base_url = (meta.get("target") or {}).get("base_url", "")
        if scenario and meta.get("scenario") != scenario:
            continue
        if target and target not in base_url:
            continue
        first = ""
        analysis_path = meta_path.parent / "analysis.json"
        if analysis_path.exists():
            try:
                ranked = json.loads(analysis_path.read_text(encoding="utf-8")).get("first_to_fail") or []
                if ranked:
                    top = ranked[0]
                    first = top.get("step", "") if isinstance(top, dict) else str(top)
            except (OSError, ValueError):
                pass
        rows.append({
            "run_id": meta_path.parent.name, "path": str(meta_path.parent),
            "scenario": meta.get("scenario", "?"), "status": meta.get("status", "?"),
            "target": base_url, "started_at": meta.get("started_at"),
            "journeys": (meta.get("traffic") or {}).get("started_journeys", ""),
            "first_to_fail": first,
        })
    return rows
