"""`authsurge analyze` at a terminal: analyse, write, print, and say whether the SLOs held.

Shared by the CLI's `analyze` and `run --analyze` and by `make demo`, so none of them
reaches into another's private code.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from authsurge.analysis.sizing import DEFAULT_HEADROOM
from authsurge.errors import ExitStatus


def analyze_to_terminal(
    run_dir: Path,
    *,
    as_json: bool,
    plots: bool,
    peak: float | None = None,
    headroom: float = DEFAULT_HEADROOM,
) -> int:
    """Analyse a run, write analysis.json (and plots), print the summary or the JSON;
    the exit status: GATE_FAILED when an SLO was breached (`analyze`, `run`, `make demo`).
    `peak` (journeys/s) and `headroom` size the sizing table (authsurge.analysis.sizing)."""
    from authsurge.analysis import analyze_run
    from authsurge.report.stage_progress import StageProgress

    with StageProgress(f"analyze {run_dir}") as progress:
        analysis = analyze_run(run_dir, progress=progress)
    analysis.sizing_peak, analysis.headroom = peak, headroom
    with analysis:
        analysis.write_json()  # and the compare digest beside it
        data = analysis.to_json()
        summary = analysis.summary_text()
        written = []
        if plots:
            from authsurge.report.plots import write_plots

            written = write_plots(analysis, Path(run_dir) / "plots")
    if as_json:
        print(json.dumps(data, indent=2, default=str))
    else:
        print(summary)
        for path in written:
            if path.suffix == ".png":
                print(f"plot: {path}")
        print(f"analysis: {Path(run_dir) / 'analysis.json'}")
    for slo in data.get("slos", []):
        if slo.get("passed") is None:  # say so: a typo in a step name must not pass silently
            print(
                f"warning: SLO not judged: {slo.get('slo')} ({slo.get('note', 'no data')})",
                file=sys.stderr,
            )
    # passed is null when an SLO could not be judged (no step matched): not a breach
    failed = [s for s in data.get("slos", []) if s.get("passed") is False]
    return ExitStatus.GATE_FAILED if failed else ExitStatus.SUCCESS
