"""Recovery after the surge, and metastability (analysis.json `recovery`).

After the surge's planned sign-in load peaks above the target's capacity and falls back
below it, how long does sign-in take to recover? Times are seconds from the run's start.

- capacity, in sign-in journeys/s (`capacity_source`): meta.json's calibration.capacity_rps
  when a calibration sized the run ("calibration"); else the last passing load of the
  first-ranked step's knee ("knee"), when the ranking is in journey arrivals/s and every
  surge journey signs in (so those arrivals are sign-in journeys'); else unknown.
- the load: the planned rate of the surge's sign-in journeys (analysis.step_groups) per
  window, from schedule.parquet; their first attempts when it does not plan them
  (`load_basis`). Fresh arrivals only: retries are what may keep sign-in down.
- the peak is the first window of the highest planned rate; the load exceeded capacity
  from the first window planned above it (`exceeded_at_s`) and fell below it at the first
  window after the peak planned below it. No fall below capacity after a peak above it
  (a plain step ramp): nothing to measure, the section is null. A surge that came and
  went (after its peak the plan drops under SURGE_FALL_SHARE of it) on an unknown
  capacity is reported with its `reason` and no measurement.
- pre-surge p95: the median, over the windows before `exceeded_at_s` in which sign-in
  journeys completed, of their window p95 (the highest of the sign-in journeys'; journey
  latency counts from the planned start, queueing included). No such window: recovery is
  undetermined (recovered and metastable null, `reason` says why).
- recovered: from the fall on, the first HOLD_WINDOWS consecutive windows with sign-in
  traffic (windows without sign-in arrivals or completions are skipped) in each of which
  sign-in journeys completed with p95 at most P95_MULTIPLE x the pre-surge p95, and over
  which their goodput was within GOODPUT_WITHIN of their offered load (every arrival,
  retries and drops included; summed over the windows, so one window's noise decides
  nothing, and held for all of them, so one lucky window does not count). recovered_at_s
  is the first of those windows, recovery_s the time from the fall to it.
- metastable: the load fell below capacity but sign-in had not recovered by the end of the
  run, which went on for at least HOLD_WINDOWS windows with sign-in traffic after the fall
  (fewer: too soon to tell, undetermined).
- after the fall (until recovery, or the end): the sign-in journeys' arrivals
  (`attempts_after_fall`), the share of them that were retries (attempt > 1), and the
  population's re-logins (null without a population).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from authsurge.analysis.curves import Curves
from authsurge.analysis.knee import Knee, level_bracket
from authsurge.analysis.ranking import ARRIVALS
from authsurge.analysis.step_groups import (
    GroupIndex,
    per_series,
    sign_in_journeys,
    slowest_p95,
    surge_journeys,
)

GOODPUT_WITHIN = 0.10
P95_MULTIPLE = 2.0
HOLD_WINDOWS = 3
SURGE_FALL_SHARE = 0.5
CALIBRATION = "calibration"
KNEE = "knee"
RULE = (
    f"recovered: from the first window after the peak whose planned sign-in rate is below "
    f"capacity, the first {HOLD_WINDOWS} consecutive windows with sign-in traffic where the "
    f"sign-in journeys' goodput is within {GOODPUT_WITHIN:.0%} of their offered load (summed "
    f"over the windows) and each window's p95 is at most {P95_MULTIPLE:g}x the pre-surge p95 "
    "(median window p95 before the plan first exceeded capacity); metastable: not recovered "
    f"by the end of the run, with at least {HOLD_WINDOWS} such windows after the fall"
)


@dataclass(frozen=True)
class Capacity:
    """The sign-in journeys/s the target sustains, where it came from, or why it is unknown."""

    rps: float | None
    source: str | None  # CALIBRATION or KNEE; None when unknown
    reason: str | None = None  # why it is unknown


def capacity_of(
    meta: dict[str, Any],
    ranked: list[dict[str, Any]],
    knees: dict[str, Knee],
    curves: Curves,
    index: GroupIndex,
) -> Capacity:
    """The capacity recovery is measured against (module docstring)."""
    calibration = meta.get("calibration")
    if isinstance(calibration, dict):
        value = calibration.get("capacity_rps")
        if isinstance(value, int | float) and not isinstance(value, bool):
            if math.isfinite(value) and value > 0:
                return Capacity(float(value), CALIBRATION)
    unknown = "no calibration in meta.json, and "
    if not ranked or not ranked[0]["reached"]:
        return Capacity(None, None, unknown + "no step reached a knee")
    first = ranked[0]
    if first["rank_by"] != ARRIVALS:
        return Capacity(None, None, unknown + "the knees are not in journey arrivals/s")
    others = sorted(set(surge_journeys(index)) - set(sign_in_journeys(index)))
    if others:
        return Capacity(
            None,
            None,
            unknown + f"the first knee's arrivals include journeys that do not sign in "
            f"({', '.join(others)})",
        )
    low, _ = level_bracket(curves.of(first["step"]), knees[first["step"]], "arrivals_rps")
    if not low > 0:
        return Capacity(None, None, unknown + "the first knee is at the lowest load")
    return Capacity(low, KNEE)


def recovery_section(
    windows: pd.DataFrame,
    index: GroupIndex,
    load: pd.DataFrame | None,
    capacity: Capacity,
    population: dict[str, Any] | None = None,
    run_end_s: float | None = None,
) -> dict[str, Any] | None:
    """analysis.json's recovery (module docstring); None when there is nothing to measure.
    `load`: step_groups.sign_in_load's; `run_end_s`: the run's end from its start (the last
    window's end when None)."""
    if load is None:
        return None
    t = load["t_s"].to_numpy(dtype=float)
    planned, basis = _planned(load)
    if not np.nansum(planned) > 0:
        return None
    peak = int(np.nanargmax(planned))
    doc: dict[str, Any] = {
        "journeys": list(load.attrs["journeys"]),
        "load_basis": basis,
        "capacity_rps": capacity.rps,
        "capacity_source": capacity.source,
        "peak_at_s": float(t[peak]),
        "peak_rps": float(planned[peak]),
        "exceeded_at_s": None,
        "fell_below_at_s": None,
        "recovered_at_s": None,
        "recovery_s": None,
        "recovered": None,
        "metastable": None,
        "pre_surge_p95_ms": None,
        "after_fall_s": None,
        "attempts_after_fall": None,
        "retry_share_after_fall": None,
        "relogins_after_fall": None,
        "reason": None,
        "rule": RULE,
    }
    if capacity.rps is None:
        if np.nanmin(planned[peak:]) < SURGE_FALL_SHARE * planned[peak]:
            return {**doc, "reason": f"capacity unknown: {capacity.reason}"}
        return None
    above = np.flatnonzero(planned > capacity.rps)
    fell_after = np.flatnonzero(planned[peak:] < capacity.rps)
    if not above.size or not fell_after.size:
        return None
    fell = peak + int(fell_after[0])
    end = run_end_s if run_end_s is not None else float(t[-1] + index.window_s)
    doc |= {
        "exceeded_at_s": float(t[above[0]]),
        "fell_below_at_s": float(t[fell]),
        "after_fall_s": max(end - float(t[fell]), 0.0),
    }
    signs = _SignIns.of(windows, index, doc["journeys"])
    pre = [w for w in range(int(above[0])) if signs.completed[w] > 0 and np.isfinite(signs.p95[w])]
    if not pre:
        reason = (
            "no sign-in journey completed before the planned load first exceeded capacity: "
            "no pre-surge p95 to recover to"
        )
        return doc | signs.after(fell, index.n_windows, population) | {"reason": reason}
    pre_p95 = float(np.median(signs.p95[pre]))
    doc["pre_surge_p95_ms"] = pre_p95
    traffic = [w for w in range(fell, index.n_windows) if signs.offered[w] or signs.completed[w]]
    for i in range(len(traffic) - HOLD_WINDOWS + 1):
        held = traffic[i : i + HOLD_WINDOWS]
        if signs.healthy(held, pre_p95):
            at = held[0]
            return (
                doc
                | signs.after(fell, at, population)
                | {
                    "recovered_at_s": float(t[at]),
                    "recovery_s": float(t[at] - t[fell]),
                    "recovered": True,
                    "metastable": False,
                }
            )
    doc |= signs.after(fell, index.n_windows, population)
    if len(traffic) < HOLD_WINDOWS:
        return doc | {
            "reason": f"the run ended {doc['after_fall_s']:.0f} s after the load fell below "
            f"capacity, with fewer than {HOLD_WINDOWS} windows of sign-in traffic: too soon to tell"
        }
    return doc | {"recovered": False, "metastable": True}


def _planned(load: pd.DataFrame) -> tuple[np.ndarray, str]:
    """The fresh sign-in load per window and its basis: the schedule's plan, else the first
    attempts up to the window before the last one with any (arrivals stop with the run:
    that is not the load falling). NaN where it is not known."""
    planned = load["planned_rps"].to_numpy(dtype=float)
    if np.nansum(planned) > 0:
        return planned, "schedule"
    firsts = load["first_attempts_rps"].to_numpy(dtype=float)
    seen = np.flatnonzero(firsts > 0)
    if seen.size:
        firsts = np.where(np.arange(firsts.size) < seen[-1], firsts, np.nan)
    return firsts, "first attempts"


@dataclass(frozen=True)
class _SignIns:
    """The sign-in journeys' window counts, summed over the journeys (p95: the highest)."""

    offered: np.ndarray
    completed: np.ndarray
    ok: np.ndarray
    p95: np.ndarray
    attempts: np.ndarray
    firsts: np.ndarray

    @classmethod
    def of(cls, windows: pd.DataFrame, index: GroupIndex, journeys: list[str]) -> _SignIns:
        names = index.series_names
        rows = [names.index(index.journey_series(j)) for j in journeys]

        def summed(column: str) -> np.ndarray:
            return per_series(windows, len(names), column)[rows].sum(axis=0)

        p95 = per_series(windows, len(names), "p95")[rows]
        attempts, firsts = index.arrival_attempts()
        return cls(
            summed("offered"),
            summed("completed"),
            summed("ok"),
            slowest_p95(p95),
            attempts[rows].sum(axis=0),
            firsts[rows].sum(axis=0),
        )

    def healthy(self, held: list[int], pre_p95: float) -> bool:
        """Goodput within GOODPUT_WITHIN of the offered load over these windows, and each
        window's p95 within P95_MULTIPLE of the pre-surge p95."""
        if not all(self.completed[w] > 0 for w in held):
            return False
        if not all(self.p95[w] <= P95_MULTIPLE * pre_p95 for w in held):
            return False
        return bool(self.ok[held].sum() >= (1 - GOODPUT_WITHIN) * self.offered[held].sum())

    def after(self, fell: int, stop: int, population: dict[str, Any] | None) -> dict[str, Any]:
        """What arrived from the fall until `stop`: arrivals, the retries' share, re-logins."""
        attempts = int(self.attempts[fell:stop].sum())
        retries = attempts - int(self.firsts[fell:stop].sum())
        relogins = None
        if population is not None:
            relogins = sum(int(w["relogins"]) for w in population["windows"][fell:stop])
        return {
            "attempts_after_fall": attempts,
            "retry_share_after_fall": retries / attempts if attempts else None,
            "relogins_after_fall": relogins,
        }


FINDING_FIELDS = (
    "capacity",
    "capacity_source",
    "fell_below_at_s",
    "recovered_at_s",
    "recovery_s",
    "recovered",
    "metastable",
    "after_fall_s",
    "pre_surge_p95",
    "retry_share",
    "relogins",
    "reason",
)


def finding_fields(r: dict[str, Any] | None) -> dict[str, Any] | None:
    """The recovery finding's fields (authsurge.analysis.findings), from the section."""
    if not r:
        return None
    return {
        "capacity": r["capacity_rps"],
        "capacity_source": r["capacity_source"],
        "fell_below_at_s": r["fell_below_at_s"],
        "recovered_at_s": r["recovered_at_s"],
        "recovery_s": r["recovery_s"],
        "recovered": r["recovered"],
        "metastable": r["metastable"],
        "after_fall_s": r["after_fall_s"],
        "pre_surge_p95": r["pre_surge_p95_ms"],
        "retry_share": r["retry_share_after_fall"],
        "relogins": r["relogins_after_fall"],
        "reason": r["reason"],
    }
