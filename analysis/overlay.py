"""Capacity curves of several runs on one plot: goodput against offered load (req/s), one
line per run and step (colour: step, line style: run), each knee marked X.

    python analysis/overlay.py runs/<a> runs/<b> -o overlay.png
    python analysis/overlay.py runs/<a> runs/<b> --step login.submit -o submit.png

Each run is analysed first when its analysis.json is missing or stale.
Exit codes: 0 written, 2 bad input (not a run directory, a step not in every run),
3 internal error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    from authsurge.crashlog import run_command

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("runs", type=Path, nargs="+", help="run directories (runs/<id>)")
    parser.add_argument("-o", "--out", type=Path, default=Path("overlay.png"),
                        help="the figure (.png or .svg; default overlay.png)")
    parser.add_argument("--step", action="append", default=[],
                        help="a step to plot (repeatable; default: every step the runs share)")
    args = parser.parse_args(argv)

    def work() -> int:
        from authsurge.report.inputs import load_inputs
        from authsurge.report.overlay import write_overlay

        docs = [load_inputs(run).doc for run in args.runs]
        labels = [doc["run"]["id"] for doc in docs]
        print(f"wrote {write_overlay(docs, labels, args.out, args.step)}")
        return 0

    return run_command(work, "overlay", prog="overlay.py")


if __name__ == "__main__":
    sys.exit(main())
