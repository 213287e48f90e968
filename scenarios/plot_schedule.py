"""Plot a scenario's planned arrival rates per journey (e.g. the shipped App-Store trace).

    python scenarios/plot_schedule.py scenarios/appstore_surge.yaml -o docs/appstore_surge.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from authsurge.scenario import load_scenario  # noqa: E402
from authsurge.traffic import curves_for  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", type=Path)
    parser.add_argument("-o", "--out", type=Path, default=Path("schedule.png"))
    parser.add_argument("--rate-scale", type=float, default=None, help="override a trace's rate_scale")
    args = parser.parse_args()
    scenario = load_scenario(args.scenario)
    scale = args.rate_scale
    if scale is None and getattr(scenario.traffic.shape, "rate_scale", None) == "auto":
        scale = 1.0  # measured at run time: plot the trace as written
        print("rate_scale auto: plotting the trace at scale 1 (the run measures the target first)")
    curves = curves_for(scenario, scale)
    fig, ax = plt.subplots(figsize=(9, 4.2), dpi=110)
    for name, curve in curves.items():
        t = np.linspace(0, curve.duration, 2000)
        ax.plot(t, curve.rate(t), label=name)
    ax.set_xlabel("run time (s)")
    ax.set_ylabel("planned arrivals (journeys/s)")
    ax.set_title(f"{scenario.name}: planned open-model arrivals per journey")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
