"""Congestive collapse: goodput that falls far below its peak while the load stays up.

A target past its knee can keep working for people who have already given up: it hashes
passwords for requests the client timed out, so goodput falls towards zero while the queue
grows. That is the failure of a real surge, so it is a finding of its own, not a capacity.

Rule, per step (and journey), over its judged curve points in curve order: the step
collapses when a point after its goodput peak has goodput below COLLAPSE_SHARE x that peak
while it is still offered at least that peak (so a ramp back down, or a step downstream of
a failing one that simply gets fewer requests, is no collapse).
The finding gives the surge (journey arrivals/s, and the step's offered req/s) of the first
such point, what its failures were (outcome classes of the collapsed points' requests), and
the time spent in collapse: the windows after the peak began in which the step was offered
at least its peak goodput but served less than COLLAPSE_SHARE of it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from authsurge.analysis.knee import MIN_POINT_REQUESTS, finite_or_none
from authsurge.analysis.record_index import RecordIndex
from authsurge.analysis.windows import error_columns, series_rows

COLLAPSE_SHARE = 0.5
RULE = (
    f"collapse: a curve point after the goodput peak, offered at least the peak, with "
    f"goodput below {COLLAPSE_SHARE * 100:g}% of it; time in collapse counts the later "
    f"windows offered at least the peak but served below {COLLAPSE_SHARE * 100:g}% of it"
)


def find_collapse(
    series: str, points: pd.DataFrame, windows: pd.DataFrame, index: RecordIndex
) -> dict[str, Any]:
    """The collapse finding of one series (``collapsed`` False when there is none)."""
    out: dict[str, Any] = {"collapsed": False, "rule": RULE}
    judged = points[points["completed"] >= MIN_POINT_REQUESTS]
    if judged.empty:
        return out
    goodput = judged["goodput_rps"].to_numpy(dtype=float)
    peak_row = int(np.nanargmax(goodput))
    peak = float(goodput[peak_row])
    after = judged.iloc[peak_row + 1 :]
    down = after[
        (after["goodput_rps"].to_numpy(dtype=float) < COLLAPSE_SHARE * peak)
        & (after["offered_rps"].to_numpy(dtype=float) >= peak)
    ]
    if peak <= 0 or down.empty:
        return out
    first = down.iloc[0]
    failures = {
        c.removeprefix("err_"): int(down[c].sum()) for c in error_columns(down) if down[c].sum()
    }
    rows = series_rows(windows, index, series)
    later = rows["t"].to_numpy(dtype=float) >= float(judged["t_first"].iloc[peak_row])
    offered = rows["offered_rps"].to_numpy(dtype=float)
    served = rows["goodput_rps"].to_numpy(dtype=float)
    in_collapse = later & (offered >= peak) & (served < COLLAPSE_SHARE * peak)
    out.update(
        collapsed=True,
        peak_goodput=peak,
        peak_arrivals=finite_or_none(judged["arrivals_rps"].iloc[peak_row]),
        at_arrivals=finite_or_none(first["arrivals_rps"]),
        at_offered=float(first["offered_rps"]),
        lowest_goodput=float(down["goodput_rps"].min()),
        failures=dict(sorted(failures.items(), key=lambda kv: -kv[1])),
        seconds=float(in_collapse.sum() * index.window_s),
    )
    return out
