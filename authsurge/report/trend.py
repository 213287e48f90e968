"""Capacity across runs (releases): each step's capacity at its knee, one line per step.

The x axis is the target's version label when every plotted run has one (release to
release, in run order), else the run's start time. A hollow marker is a run in which the
step had no knee: its value is the highest goodput measured, a lower bound.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.figure import Figure

from authsurge.report.plots import STYLE


def trend_figure(rows: list[dict[str, Any]]) -> Figure:
    """rows as authsurge.history.list_runs returns them (any order); unanalysed runs are skipped."""
    runs = sorted(
        (r for r in rows if r.get("knees")), key=lambda r: (r.get("started_at") or 0, r["run_id"])
    )
    fig = Figure(figsize=(9, 5), dpi=120, layout="constrained")
    ax = fig.add_subplot()
    by_version = bool(runs) and all(r.get("version") for r in runs)
    if by_version:
        xs: list[Any] = list(range(len(runs)))
        ax.set_xticks(
            xs, [f"{r['version']}\n{_day(r.get('started_at'))}" for r in runs], fontsize=8
        )
        ax.set_xlabel("target version (run date, UTC)")
    else:
        xs = [
            dt.datetime.fromtimestamp(r["started_at"], dt.UTC) if r.get("started_at") else None
            for r in runs
        ]
        ax.set_xlabel("run start (UTC)")
        fig.autofmt_xdate()
    steps: list[str] = []
    for r in runs:
        steps += [s for s in r["knees"] if s not in steps]
    for i, step in enumerate(steps):
        color = f"C{i % 10}"
        pts = [
            (x, r["knees"][step])
            for x, r in zip(xs, runs, strict=True)
            if x is not None and step in r["knees"] and r["knees"][step].get("capacity") is not None
        ]
        if not pts:
            continue
        ax.plot(
            [x for x, _ in pts],
            [k["capacity"] for _, k in pts],
            color=color,
            label=step,
            marker="o",
        )
        bounds = [(x, k["capacity"]) for x, k in pts if not k.get("reached")]
        if bounds:
            ax.plot(
                [x for x, _ in bounds],
                [y for _, y in bounds],
                linestyle="none",
                marker="o",
                markersize=9,
                markerfacecolor="white",
                markeredgecolor=color,
            )
    ax.set_ylim(bottom=0)
    ax.set_ylabel("capacity at the knee (successful req/s)")
    ax.set_title("Capacity per step across runs (hollow: no knee reached, a lower bound)")
    if steps:
        ax.legend(loc="best")
    else:
        ax.text(0.5, 0.5, "no analysed runs", transform=ax.transAxes, ha="center")
    return fig


def write_trend(rows: list[dict[str, Any]], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context(STYLE):  # type: ignore[arg-type]
        trend_figure(rows).savefig(
            path,
            metadata={"Software": None}
            if path.suffix == ".png"
            else {"Date": None}
            if path.suffix == ".svg"
            else None,
        )
    return path


def _day(epoch: Any) -> str:
    if not isinstance(epoch, int | float):
        return "?"
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M")
