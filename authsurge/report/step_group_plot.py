"""The sign-in against the API panel: per step group (the surge's sign-in, its sign-out and
the API of people already signed in), error rate and p95 over time, the surge's sign-in
arrivals shaded behind them and sign-in's recovery marked.

The numbers are the analysis's (RunAnalysis.step_groups, .sign_in_load and .recovery:
authsurge.analysis.step_groups and .recovery); this module only draws them. A group
without requests has no line; a run with none of the groups has no panel (None).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from authsurge.analysis.step_groups import API_GROUP, SIGN_IN_GROUP, SIGN_OUT_GROUP

if TYPE_CHECKING:
    from authsurge.analysis import RunAnalysis

COLORS = {SIGN_IN_GROUP: "C3", SIGN_OUT_GROUP: "C1", API_GROUP: "C0"}
LOAD_COLOR = "0.6"


def step_groups_figure(analysis: RunAnalysis) -> Figure | None:
    """Error rate (top) and p95 (bottom) of each step group per window; None without any."""
    groups = analysis.step_groups()
    if not groups:
        return None
    load = analysis.sign_in_load()
    recovery = analysis.recovery or {}
    fig = Figure(figsize=(10, 7), dpi=120, layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    for name, frame in groups.items():
        # a value holds for its whole window, as the shaded arrivals do
        style = {"color": COLORS[name], "label": name, "drawstyle": "steps-post"}
        top.plot(frame["t_s"], frame["error_rate"] * 100, **style)
        bottom.plot(frame["t_s"], frame["p95_ms"], **style)
    top.set_ylim(bottom=0)
    top.set_ylabel("error rate (% of completed requests)")
    bottom.set_ylabel("p95 latency (ms; highest step of the group)")
    bottom.set_xlabel("time since start (s)")
    values = np.concatenate([f["p95_ms"].to_numpy(dtype=float) for f in groups.values()])
    finite = values[np.isfinite(values) & (values > 0)]
    if finite.size and finite.max() / finite.min() > 50:
        bottom.set_yscale("log")
    behind = [_behind(ax, load, recovery) for ax in (top, bottom)][0]
    for ax in (top, bottom):
        _mark_recovery(ax, recovery)
    # one legend for both panels, below them: the lines are the same groups
    own, labels = top.get_legend_handles_labels()
    fig.legend(
        own + behind,
        labels + [h.get_label() for h in behind],
        loc="outside lower center",
        ncols=3,
        fontsize=8,
    )
    fig.suptitle(
        "Sign-in, sign-out and the API of signed-in people over time "
        "(shaded: the surge's sign-in arrivals)"
    )
    return fig


def _behind(ax: Axes, load: pd.DataFrame | None, recovery: dict[str, Any]) -> list[Any]:
    """The surge's sign-in arrivals (and plan, and capacity) on a twin axis drawn behind the
    groups' lines; the handles for the legend."""
    if load is None:
        return []
    twin = ax.twinx()
    twin.grid(False)
    twin.spines["right"].set_visible(True)
    # the lines stay in front of the shaded load: the main axes above, its background off
    ax.set_zorder(twin.get_zorder() + 1)
    ax.patch.set_visible(False)
    area = twin.fill_between(
        load["t_s"],
        load["arrivals_rps"],
        step="post",
        color=LOAD_COLOR,
        alpha=0.3,
        linewidth=0,
        label="sign-in arrivals (journeys/s, right)",
    )
    handles: list[Any] = [area]
    if np.isfinite(load["planned_rps"]).any():
        (planned,) = twin.plot(
            load["t_s"],
            load["planned_rps"],
            drawstyle="steps-post",
            color=LOAD_COLOR,
            linestyle="--",
            linewidth=1,
            label="planned sign-in arrivals (journeys/s, right)",
        )
        handles.append(planned)
    if recovery.get("capacity_rps") is not None:
        handles.append(
            twin.axhline(
                recovery["capacity_rps"],
                color="black",
                linestyle=":",
                linewidth=1,
                label=f"capacity ({recovery['capacity_source']}, journeys/s, right)",
            )
        )
    twin.set_ylim(bottom=0)
    twin.set_ylabel("sign-in arrivals (journeys/s)")
    return handles


def _mark_recovery(ax: Axes, recovery: dict[str, Any]) -> None:
    """Vertical lines where the load fell below capacity and where sign-in recovered."""
    marks = (
        ("fell_below_at_s", "load below capacity", "black"),
        ("recovered_at_s", "sign-in recovered", "C2"),
    )
    for key, label, color in marks:
        at = recovery.get(key)
        if at is None:
            continue
        ax.axvline(at, color=color, linestyle="--", linewidth=1.2)
        ax.annotate(
            label,
            (at, 1.0),
            xycoords=("data", "axes fraction"),
            rotation=90,
            fontsize=8,
            va="top",
            ha="right",
            color=color,
        )
