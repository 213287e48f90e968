"""Copy a demo run's seed panel (plots/step_groups.png, drawn by authsurge.report.
step_group_plot) into docs/img/ for the README, and print the demo's answer for it.

    python tools/readme_demo_panel.py runs/<timestamp>-demo_surge
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from authsurge.report.demo_answer import demo_answer

OUT = Path(__file__).resolve().parents[1] / "docs" / "img" / "demo_panel.png"


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not (Path(argv[0]) / "plots" / "step_groups.png").is_file():
        print("usage: python tools/readme_demo_panel.py RUN_DIR (a demo run with its plots)")
        return 2
    run_dir = Path(argv[0])
    shutil.copyfile(run_dir / "plots" / "step_groups.png", OUT)
    answer, _ = demo_answer(run_dir)
    print(f"wrote {OUT}\n")
    print("\n".join(f"> {sentence}" for sentence in answer))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
