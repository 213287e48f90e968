"""A run's capacity curves as one table: one row per curve point of every step and journey
(offered and arriving load, goodput, errors, latency percentiles, concurrency), with
past_knee marking the points at or beyond the series' knee.

    python analysis/curves_table.py runs/<id>              # aligned text
    python analysis/curves_table.py runs/<id> --csv c.csv  # for a spreadsheet

Analyses the run first when its analysis.json is missing or stale (as `authsurge report`).
Exit codes: 0 written, 2 bad input (not a run directory), 3 internal error.
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
    parser.add_argument("run", type=Path, help="a run directory (runs/<id>)")
    parser.add_argument("--csv", type=Path, help="write CSV here instead of printing a table")
    args = parser.parse_args(argv)

    def work() -> int:
        from authsurge.analysis.tables import curves_table
        from authsurge.report.inputs import load_inputs

        table = curves_table(load_inputs(args.run).doc)
        if args.csv:
            args.csv.parent.mkdir(parents=True, exist_ok=True)
            table.to_csv(args.csv, index=False)
            print(f"wrote {args.csv} ({len(table)} curve points)")
        else:
            print(table.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
        return 0

    return run_command(work, "curves_table", prog="curves_table.py")


if __name__ == "__main__":
    sys.exit(main())
