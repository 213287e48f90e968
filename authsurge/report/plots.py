"""Plots of a run analysis: capacity curves, latency, errors, a timeline and (when the run
has them) sign-in against the API of signed-in people over time, as PNG and SVG.

Built on matplotlib's object API (``Figure``, no pyplot), so nothing touches global state
or needs a display: the Agg canvas renders PNG and the SVG backend SVG. Every axis says
what it measures and in which unit; each step's knee is marked on every plot.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from authsurge.report.step_group_plot import step_groups_figure

if TYPE_CHECKING:
    from authsurge.analysis import RunAnalysis

STYLE: dict[str, Any] = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.hashsalt": "authsurge",  # stable SVG ids: identical runs give identical files
}
PERCENTILES = (("p50", "p50"), ("p90", "p90"), ("p95", "p95"), ("p99", "p99"))
FORMATS = ("png", "svg")


def legend(ax: Axes, **kwargs: Any) -> None:
    """A legend when something on the axes is labelled (a run with no errors has nothing to
    list on the error plot, and matplotlib would warn)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**kwargs)


def ideal_line(ax: Axes, top: float, linewidth: float = 1.0) -> None:
    """The diagonal every capacity curve follows until its knee."""
    ax.plot(
        [0, top],
        [0, top],
        color="grey",
        linestyle="--",
        linewidth=linewidth,
        label="goodput = offered (ideal)",
    )


def _request_steps(analysis: RunAnalysis) -> list[str]:
    return list(analysis.steps)


def _points(analysis: RunAnalysis, step: str):  # noqa: ANN202 - a DataFrame
    """A step's curve points in ascending offered load (levels can revisit a load)."""
    return analysis.curves.of(step).sort_values("offered_rps", kind="stable")


def _colors(names: list[str]) -> dict[str, str]:
    cycle = [f"C{i % 10}" for i in range(len(names))]
    return dict(zip(names, cycle, strict=True))


def _mark_knee(ax: Axes, analysis: RunAnalysis, step: str, color: str) -> None:
    knee = analysis.knees[step]
    if knee.reached and knee.offered is not None:
        ax.axvline(knee.offered, color=color, linestyle=":", linewidth=1.2)


def capacity_figure(analysis: RunAnalysis) -> Figure:
    """Goodput against offered load per step, with the ideal y = x and each knee."""
    fig = Figure(figsize=(8, 5.5), dpi=120, layout="constrained")
    ax = fig.add_subplot()
    steps = _request_steps(analysis)
    colors = _colors(steps)
    top = 0.0
    for step in steps:
        pts = _points(analysis, step)
        if pts.empty:
            continue
        ax.plot(
            pts["offered_rps"],
            pts["goodput_rps"],
            marker="o",
            markersize=4,
            color=colors[step],
            label=step,
        )
        top = max(top, float(pts["offered_rps"].max()), float(pts["goodput_rps"].max()))
        knee = analysis.knees[step]
        if knee.reached and knee.offered is not None and knee.capacity is not None:
            ax.plot(
                [knee.offered],
                [knee.capacity],
                marker="X",
                markersize=11,
                color=colors[step],
                markeredgecolor="black",
                linestyle="none",
            )
            ax.annotate(
                f"{step} knee\n{knee.offered:,.1f} req/s offered",
                (knee.offered, knee.capacity),
                textcoords="offset points",
                xytext=(8, -22),
                fontsize=8,
            )
    if top > 0:
        ideal_line(ax, top)
        share = analysis.config.goodput_share
        ax.plot(
            [0, top],
            [0, share * top],
            color="grey",
            linestyle=":",
            linewidth=1,
            label=f"{share:.0%} of offered (knee threshold)",
        )
    _maybe_log(ax, analysis, steps)
    ax.set_title("Capacity curves: goodput vs offered load (steady state)")
    ax.set_xlabel("offered load (req/s)")
    ax.set_ylabel("goodput (successful req/s)")
    legend(ax, loc="upper left")
    return fig


def _maybe_log(ax: Axes, analysis: RunAnalysis, steps: list[str]) -> None:
    """Log axes when steps differ by more than 20x in load, so the small ones stay readable."""
    peaks = [
        float(analysis.curves.of(s)["offered_rps"].max())
        for s in steps
        if not analysis.curves.of(s).empty
    ]
    lows = [
        float(analysis.curves.of(s)["offered_rps"].min())
        for s in steps
        if not analysis.curves.of(s).empty
    ]
    if peaks and min(lows) > 0 and max(peaks) / min(peaks) > 20:
        ax.set_xscale("log")
        ax.set_yscale("log")


def latency_figure(analysis: RunAnalysis) -> Figure:
    """Latency percentiles against offered load, one panel per step."""
    steps = _request_steps(analysis) or ["(none)"]
    cols = min(3, len(steps))
    rows = math.ceil(len(steps) / cols)
    fig = Figure(figsize=(4.2 * cols, 3.4 * rows + 0.6), dpi=120, layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    colors = _colors(_request_steps(analysis))
    for ax, step in zip(axes.flat, steps, strict=False):
        ax.set_title(step)
        ax.set_xlabel("offered load (req/s)")
        ax.set_ylabel("latency (ms)")
        if step not in analysis.steps:
            continue
        pts = _points(analysis, step)
        for column, label in PERCENTILES:
            ax.plot(pts["offered_rps"], pts[column], marker=".", label=label)
        values = pts[[c for c, _ in PERCENTILES]].to_numpy(dtype=float)
        finite = values[np.isfinite(values) & (values > 0)]
        if finite.size and finite.max() / finite.min() > 50:
            ax.set_yscale("log")
        if analysis.config.knee_p95_ms is not None:
            ax.axhline(
                analysis.config.knee_p95_ms,
                color="red",
                linestyle="--",
                linewidth=1,
                label=f"knee_p95_ms {analysis.config.knee_p95_ms:g} ms",
            )
        _mark_knee(ax, analysis, step, colors[step])
        legend(ax, loc="upper left")
    for ax in list(axes.flat)[len(steps) :]:
        ax.set_visible(False)
    fig.suptitle("Latency percentiles vs offered load (dotted line: knee)")
    return fig


def errors_figure(analysis: RunAnalysis) -> Figure:
    """Error rate against offered load per step."""
    fig = Figure(figsize=(8, 5), dpi=120, layout="constrained")
    ax = fig.add_subplot()
    steps = _request_steps(analysis)
    colors = _colors(steps)
    for step in steps:
        pts = _points(analysis, step)
        if pts.empty:
            continue
        ax.plot(
            pts["offered_rps"],
            pts["error_rate"] * 100,
            marker="o",
            markersize=4,
            color=colors[step],
            label=step,
        )
        _mark_knee(ax, analysis, step, colors[step])
    ax.set_ylim(bottom=0)
    ax.set_title("Error rate vs offered load (dotted lines: knees)")
    ax.set_xlabel("offered load (req/s)")
    ax.set_ylabel("error rate (% of completed requests)")
    legend(ax, loc="upper left")
    return fig


def timeline_figure(analysis: RunAnalysis) -> Figure:
    """Arrivals, goodput and errors per second over the run, target CPU on a twin axis."""
    from authsurge.analysis.bottleneck import resource_windows

    index = analysis.index
    windows = analysis.windows
    w = index.window_s
    t = np.arange(index.n_windows) * w
    journey_rows = windows["scope"] == "journey"
    scope = journey_rows if journey_rows.any() else ~journey_rows
    unit = "journeys/s" if journey_rows.any() else "requests/s"
    grid = windows[scope].groupby("window", observed=True)[["offered", "ok", "errors"]].sum()
    grid = grid.reindex(range(index.n_windows), fill_value=0)
    fig = Figure(figsize=(10, 5), dpi=120, layout="constrained")
    ax = fig.add_subplot()
    ax.plot(t, grid["offered"] / w, label=f"arrivals ({unit})", color="C0")
    ax.plot(t, grid["ok"] / w, label=f"goodput ({unit})", color="C2")
    ax.plot(t, grid["errors"] / w, label=f"errors ({unit})", color="C3")
    ax.set_xlabel("time since start (s)")
    ax.set_ylabel(f"rate ({unit})")
    ax.set_title("Timeline: load, goodput, errors and target CPU (dotted lines: knees)")
    steps = _request_steps(analysis)
    colors = _colors(steps)
    for step in steps:
        knee = analysis.knees[step]
        if knee.reached and knee.first_fail_point is not None:
            start = (
                float(analysis.curves.of(step)["t_first"].iloc[knee.first_fail_point]) - index.t0
            )
            ax.axvline(start, color=colors[step], linestyle=":", linewidth=1.5)
            ax.annotate(
                f"{step} knee",
                (start, ax.get_ylim()[1]),
                rotation=90,
                fontsize=8,
                va="top",
                ha="right",
                color=colors[step],
            )
    handles, labels = ax.get_legend_handles_labels()
    res = resource_windows(analysis.data.resources, index)
    if res is not None and np.isfinite(res.target_cpu).any():
        twin = ax.twinx()
        twin.grid(False)
        twin.spines["right"].set_visible(True)
        (line,) = twin.plot(t, res.target_cpu, color="C7", linestyle="--", label="target CPU (%)")
        cores = res.cpu_count
        if cores:
            twin.axhline(100 * cores, color="C7", linewidth=0.8, alpha=0.5)
            twin.set_ylim(0, max(100 * cores * 1.1, float(np.nanmax(res.target_cpu)) * 1.05))
        twin.set_ylabel(f"target CPU (%, 100 = one core{f'; {cores} cores' if cores else ''})")
        handles.append(line)
        labels.append(line.get_label())
    ax.legend(handles, labels, loc="upper left")
    return fig


FIGURES: dict[str, Callable[[RunAnalysis], Figure | None]] = {
    "capacity": capacity_figure,
    "latency": latency_figure,
    "errors": errors_figure,
    "timeline": timeline_figure,
    # None for a run without sign-in, sign-out or population API requests
    "step_groups": step_groups_figure,
}


def write_plots(analysis: RunAnalysis, out_dir: str | Path) -> list[Path]:
    """Render every figure as PNG and SVG into out_dir; return the files written. A figure
    the run has no data for is not written (and an earlier analysis's is removed)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with matplotlib.rc_context(STYLE):  # type: ignore[arg-type]
        for name, build in FIGURES.items():
            fig = build(analysis)
            for fmt in FORMATS:
                path = out / f"{name}.{fmt}"
                if fig is None:
                    path.unlink(missing_ok=True)
                    continue
                # no timestamps in the files: the same analysis gives the same bytes
                metadata = {"Date": None} if fmt == "svg" else {"Software": None}
                fig.savefig(path, format=fmt, metadata=metadata)
                written.append(path)
    return written
