"""What every fault test checks about the run it made: nothing lost, errors classified on
the step they hit, the outage visible on the analysis timeline."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from authsurge.analysis import RunAnalysis, analyze_run
from tests.support.runner import records


@dataclass
class Checked:
    rows: pd.DataFrame
    journeys: pd.DataFrame  # kind=journey
    requests: pd.DataFrame  # kind=request
    failed_requests: pd.DataFrame
    analysis: RunAnalysis


def check_run(result: Any, steps_of: dict[str, Iterable[str]]) -> Checked:
    """The run completed, lost no records, and analyzes.

    Every planned arrival is a journey row or a dropped row; each journey row's requests
    are there: an ok journey has an ok request for each of its steps, a failed journey has
    the failed request its reason names (same step, outcome and reason), and no request
    row belongs to no journey.
    """
    assert result.status == "complete", result.status
    run_dir = Path(result.run_dir)
    assert not list((run_dir / "requests").glob("*.arrows")), "a shard was not compacted"
    rows = records(run_dir)
    journeys = rows[rows["kind"] == "journey"]
    dropped = rows[rows["kind"] == "dropped"]
    requests = rows[rows["kind"] == "request"]
    planned = result.meta["traffic"]["planned_journeys"]
    firsts = int((journeys["attempt"] == 1).sum()) + int((dropped["attempt"] == 1).sum())
    assert firsts == planned, f"{planned} arrivals planned, {firsts} recorded"
    assert not journeys["outcome"].isin(["harness_error", "interrupted"]).any(), \
        journeys[journeys["outcome"].isin(["harness_error", "interrupted"])]["reason"].tolist()
    assert journeys["journey_id"].is_unique
    assert set(requests["journey_id"]) <= set(journeys["journey_id"]), "requests without a journey row"

    by_journey = {jid: group for jid, group in requests.groupby("journey_id", observed=True)}
    for row in journeys.itertuples():
        mine = by_journey.get(row.journey_id)
        assert mine is not None, f"journey {row.journey_id} has no request rows"
        if row.outcome == "ok":
            assert (mine["outcome"] == "ok").all(), mine[["step", "outcome", "reason"]]
            assert set(steps_of[row.journey]) <= set(mine["step"]), (row.journey, sorted(set(mine["step"])))
        else:
            step, _, reason = row.reason.partition(": ")
            failed = mine[mine["outcome"] != "ok"]
            assert len(failed) == 1, failed[["step", "outcome", "reason"]]
            assert failed["step"].iloc[0] == step and failed["outcome"].iloc[0] == row.outcome
            assert failed["reason"].iloc[0] == reason
            # the failed request is the journey's last one
            assert failed["t_start"].iloc[0] == mine["t_start"].max()
    analysis = analyze_run(run_dir)
    return Checked(rows, journeys, requests, requests[requests["outcome"] != "ok"], analysis)


def error_windows(analysis: RunAnalysis, step: str, outcome: str) -> pd.Series:
    """Start times (epoch s) of the analysis windows where `step` had errors of `outcome`."""
    w = analysis.windows
    column = f"err_{outcome}"
    assert column in w.columns, f"no {outcome} errors at all in the analysis ({list(w.columns)})"
    mine = w[(w["series"] == step) & (w[column] > 0)]
    return mine["t"]


def assert_outage_on_timeline(checked: Checked, start: float, end: float, step: str, outcome: str,
                              slack_s: float = 1.5) -> None:
    """Errors of `outcome` on `step` only in windows around [start, end); ok journeys before
    and after; every other error class absent."""
    windows = error_windows(checked.analysis, step, outcome)
    assert len(windows) >= 1
    assert windows.min() >= start - slack_s and windows.max() <= end + slack_s, \
        (windows.tolist(), start, end)
    j = checked.journeys
    # a journey intended shortly before the window may reach the faulted step inside it
    before = j[j["t_intended"] < start - slack_s]
    after = j[j["t_intended"] >= end + slack_s]
    assert len(before) >= 3 and (before["outcome"] == "ok").all(), before[["outcome", "reason"]]
    assert len(after) >= 3 and (after["outcome"] == "ok").all(), after[["outcome", "reason"]]
    failed = j[j["outcome"] != "ok"]
    assert len(failed) >= 1
    assert failed["t_intended"].min() >= start - slack_s and failed["t_intended"].max() < end + slack_s
