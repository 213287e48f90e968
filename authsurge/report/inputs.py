"""What a report needs from a run directory: its analysis.json and its plots, kept fresh.

analysis.json (and plots/) are reused when they are newer than every raw input of the
run (meta.json, requests/, schedule.parquet, resources.parquet) and were written in the
current analysis format; otherwise the run is analysed again through authsurge.analysis
and both are rewritten. The report never computes an analysis number itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from authsurge.analysis import schema
from authsurge.rundir import newest_raw_input

if TYPE_CHECKING:
    from authsurge.analysis.compare import CompareRule, Comparison

Progress = Callable[[str], None]
FIGURES = ("capacity", "latency", "errors", "timeline")  # authsurge.report.plots.FIGURES
# plots.FIGURES a run may have no data for (no sign-in, sign-out or population API requests)
OPTIONAL_FIGURES = ("step_groups",)


@dataclass
class ReportInputs:
    run_dir: Path
    doc: dict[str, Any]  # analysis.json
    meta: dict[str, Any]
    figures: dict[str, Path]  # name -> PNG
    notes: list[str] = field(default_factory=list)


def analysis_is_fresh(run_dir: Path) -> bool:
    path = run_dir / "analysis.json"
    if not path.exists() or path.stat().st_mtime < newest_raw_input(run_dir):
        return False
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(doc, dict)
        and doc.get("format_version") == schema.ANALYSIS_FORMAT_VERSION
        and all(k in doc for k in schema.TOP_LEVEL_KEYS)
    )


def plots_are_fresh(run_dir: Path) -> bool:
    analysis = run_dir / "analysis.json"
    if not analysis.exists():
        return False
    made = analysis.stat().st_mtime
    pngs = [run_dir / "plots" / f"{name}.png" for name in FIGURES]
    # plots are written right after analysis.json, by the same command: 2 s of slack
    return all(p.exists() and p.stat().st_mtime >= made - 2.0 for p in pngs)


def load_inputs(run_dir: str | Path, *, progress: Progress | None = None) -> ReportInputs:
    """analysis.json and the plots of a run, analysing it first when they are missing or stale."""
    from authsurge.analysis.rundir_reader import (
        read_meta,  # meta.json as a dict, through rundir's reader
    )

    run_dir = Path(run_dir)
    meta = read_meta(run_dir)  # RunDirError when not a run
    if analysis_is_fresh(run_dir) and plots_are_fresh(run_dir):
        doc = json.loads((run_dir / "analysis.json").read_text(encoding="utf-8"))
        return ReportInputs(run_dir, doc, meta, _figures(run_dir))
    return _analyse(run_dir, progress)


def load_with_baseline(
    run_dir: Path,
    baseline: str | Path | None,
    rule: CompareRule | None,
    force: bool,
    progress: Progress | None,
) -> tuple[ReportInputs, Comparison | None]:
    """The run's inputs and, with a baseline, its comparison against it (BadInput when the
    scenarios differ, unless forced: said before any analysis runs)."""
    from authsurge.analysis.compare import check_comparable, compare_dirs
    from authsurge.analysis.rundir_reader import (
        read_meta,  # meta.json as a dict, through rundir's reader
    )

    if baseline is not None:
        check_comparable(read_meta(Path(baseline)), read_meta(Path(run_dir)), force)
    # analysed first when stale: that writes the digest the comparison then reads
    inputs = load_inputs(run_dir, progress=progress)
    if baseline is None:
        return inputs, None
    return inputs, compare_dirs(baseline, run_dir, rule, force=force, progress=progress)


def _analyse(run_dir: Path, progress: Progress | None) -> ReportInputs:
    from authsurge.analysis import analyze_run
    from authsurge.report.plots import write_plots

    with analyze_run(run_dir, progress=progress) as analysis:
        analysis.write_json()
        if progress:
            progress("plots")
        write_plots(analysis, run_dir / "plots")
        return ReportInputs(run_dir, analysis.to_json(), analysis.meta, _figures(run_dir))


def _figures(run_dir: Path) -> dict[str, Path]:
    return {
        name: run_dir / "plots" / f"{name}.png"
        for name in FIGURES + OPTIONAL_FIGURES
        if (run_dir / "plots" / f"{name}.png").exists()
    }
