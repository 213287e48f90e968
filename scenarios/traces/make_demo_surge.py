"""Writes demo_surge.csv: the App-Store surge of appstore_surge.csv, cut and compressed for
`make demo`.

Run: python scenarios/traces/make_demo_surge.py  (deterministic: it reads make_appstore_surge)

The web sign-ins of appstore_surge.csv from 2:54 to 6:00 (the last slow growth, the #1
rise, the hour at the peak, the decay to the new normal), in 84 s at one row every
0.5 s. Time is compressed piecewise so that each phase keeps enough one-second windows
to measure: the slow growth in 6 s; the rise to 2/3 of the peak in 32 s, slowest where
it crosses 1/3 and 2/3 (14 s to 1/3, 18 s from 1/3 to 2/3: at 3x capacity the capacity
curve and the knees are read there); the rest of the rise and the hour at the peak in
12 s; the decay and the plateau in 34 s (recovery is read from it). Rates are relative to the peak (1.0), so a scenario scales them to
the target with `rate_scale: auto` (`make demo` puts the peak at 3x the measured
capacity: the trace starts near 0.25x capacity and ends near 0.7x, below it).
"""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
OUT = HERE / "demo_surge.csv"
# (trace hour, demo second) knots of the piecewise-linear time warp
KNOTS = (
    (2.9, 0.0),
    (3.05, 6.0),
    (3.138, 20.0),
    (3.204, 38.0),
    (3.35, 44.0),
    (4.33, 50.0),
    (6.0, 84.0),
)
STEP_S = 0.5


def make() -> dict[str, np.ndarray]:
    spec = importlib.util.spec_from_file_location("appstore", HERE / "make_appstore_surge.py")
    assert spec is not None and spec.loader is not None
    appstore = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(appstore)
    cols = appstore.make()
    hours, demo = (np.array(k) for k in zip(*KNOTS, strict=True))
    t = np.arange(0.0, demo[-1] + STEP_S / 2, STEP_S)
    logins = np.interp(np.interp(t, demo, hours) * 3600, cols["t_s"], cols["web_login"])
    return {"t_s": t, "web_login": logins / logins.max()}


def main() -> None:
    cols = make()
    with open(OUT, "w", newline="") as f:
        f.write("# the App-Store surge for make demo, relative to its peak: see make_demo_surge.py\n")
        w = csv.writer(f)
        w.writerow(list(cols))
        for row in zip(*cols.values(), strict=True):
            w.writerow([f"{row[0]:.1f}", *(f"{v:.4f}" for v in row[1:])])
    print(f"wrote {OUT} ({len(cols['t_s'])} rows)")


if __name__ == "__main__":
    main()
