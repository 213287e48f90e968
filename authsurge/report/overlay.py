"""Capacity curves of several runs on one plot (``analysis/overlay.py``): goodput against
offered load, one line per run and step, each knee marked; from the runs' analysis.json."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.figure import Figure

from authsurge.errors import BadInput
from authsurge.report.plots import STYLE, ideal_line, legend

LINESTYLES = ("-", "--", "-.", ":")


def overlay_figure(
    docs: Sequence[dict[str, Any]], labels: Sequence[str], steps: Sequence[str] = ()
) -> Figure:
    """One axes: every run's capacity curve of each step (all steps the runs share when
    `steps` is empty); colour is the step, line style the run."""
    shared = [s for s in docs[0]["steps"] if all(s in d["steps"] for d in docs)]
    chosen = list(steps) or shared
    missing = [s for s in chosen if s not in shared]
    if missing:
        raise BadInput(
            f"step {', '.join(missing)} is not in every run; the runs share: "
            + (", ".join(shared) or "no step")
        )
    fig = Figure(figsize=(8, 5.5), dpi=120, layout="constrained")
    ax = fig.add_subplot()
    top = 0.0
    for r, (doc, label) in enumerate(zip(docs, labels, strict=True)):
        for c, step in enumerate(chosen):
            entry = doc["steps"][step]
            points = sorted(
                (
                    p
                    for p in entry["curve"]
                    if p["offered"] is not None and p["goodput"] is not None
                ),
                key=lambda p: p["offered"],
            )
            if not points:
                continue
            color = f"C{c % 10}"
            ax.plot(
                [p["offered"] for p in points],
                [p["goodput"] for p in points],
                color=color,
                linestyle=LINESTYLES[r % len(LINESTYLES)],
                marker="o",
                markersize=3,
                label=f"{step}, {label}",
            )
            top = max(top, *(max(p["offered"], p["goodput"]) for p in points))
            knee = entry["knee"]
            if knee["reached"] and knee["capacity"] is not None:
                ax.plot(
                    [knee["offered"]],
                    [knee["capacity"]],
                    marker="X",
                    markersize=10,
                    color=color,
                    markeredgecolor="black",
                    linestyle="none",
                )
    if top > 0:
        ideal_line(ax, top)
    ax.set_title("Capacity curves of several runs: goodput vs offered load (knees marked X)")
    ax.set_xlabel("offered load (req/s)")
    ax.set_ylabel("goodput (successful req/s)")
    legend(ax, loc="upper left")
    return fig


def write_overlay(
    docs: Sequence[dict[str, Any]], labels: Sequence[str], out: Path, steps: Sequence[str] = ()
) -> Path:
    with matplotlib.rc_context(STYLE):  # type: ignore[arg-type]
        fig = overlay_figure(docs, labels, steps)
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, metadata={"Software": None} if out.suffix == ".png" else {"Date": None})
    return out
