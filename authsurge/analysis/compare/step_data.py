"""One step of one run, as the comparison reads it from the run's digest (StepData)."""

from __future__ import annotations

import numpy as np

from authsurge.analysis.digest import RunDigest
from authsurge.analysis.knee import MIN_POINT_REQUESTS, Criterion, criteria_for, knee_rule
from authsurge.analysis.resample import WindowCounts
from authsurge.analysis.rundir_reader import analysis_config, parse_slos

# latency over this multiple of a step's lowest p50 is mostly waiting in a queue (an M/M/1
# queue doubles its latency at 50% utilisation): shown, but not judged
QUEUEING_FACTOR = 2.0


class StepData:
    """A step's per-window counts and its records' latencies, grouped by completion window."""

    def __init__(self, digest: RunDigest, name: str) -> None:
        step = digest.steps[name]
        config, slos = analysis_config(digest.meta), parse_slos(digest.meta)
        self.name = name
        self.window_s = digest.window_s
        self.offered = step.counts["offered"]
        self.ok = step.counts["ok"]
        self.completed = step.counts["completed"]
        self.arrivals_rps = step.counts["arrivals_rps"]
        self.counts = WindowCounts(
            self.offered,
            self.ok,
            self.completed,
            self.arrivals_rps,
            step.counts["concurrency"],
            self.window_s,
        )
        self.points = step.points
        self.membership = step.membership  # row of self.points pooling each window, or -1
        self.knee = step.knee
        self.criteria: list[Criterion] = criteria_for(name, config, slos)
        self.rule = knee_rule(config, slos)
        self.rec_window = step.rec_window
        self.rec_latency = step.rec_latency
        self.bounds = np.searchsorted(self.rec_window, np.arange(digest.n_windows + 1))

    def point_windows(self, row: int) -> np.ndarray:
        return np.flatnonzero(self.membership == row)

    def used_windows(self) -> np.ndarray:
        return np.flatnonzero(self.membership >= 0)

    def records(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Latencies of the records completing in `windows`, and each one's position in it."""
        parts = [self.rec_latency[self.bounds[w] : self.bounds[w + 1]] for w in windows]
        pos = np.repeat(np.arange(len(windows)), [len(p) for p in parts])
        return (np.concatenate(parts) if parts else np.empty(0)), pos

    def past_knee(self, windows: np.ndarray) -> bool:
        """Do these windows belong to a curve point at or after the knee?"""
        k = self.knee
        if not k.reached or k.first_fail_point is None:
            return False
        rows = set(self.membership[windows].tolist()) - {-1}
        return bool(rows) and min(rows) >= k.first_fail_point

    def queueing(self, windows: np.ndarray) -> bool:
        """Is the step queueing in these windows: its p50 over QUEUEING_FACTOR x its lowest
        p50 of the run (the service time, near enough)? Near a knee not yet reached, latency
        is mostly waiting, and it differs several-fold between two runs of one release."""
        rows = sorted(set(self.membership[windows].tolist()) - {-1})
        p50 = self.points["p50"].to_numpy(dtype=float)
        judged = self.points["completed"].to_numpy(dtype=float) >= MIN_POINT_REQUESTS
        if not rows or not np.isfinite(p50[judged]).any():
            return False
        return bool(np.nanmax(p50[rows]) > QUEUEING_FACTOR * np.nanmin(p50[judged]))

    def before_knee(self, windows: np.ndarray) -> bool:
        """Do all these windows belong to curve points before the knee (healthy ones)?"""
        k = self.knee
        if not k.reached or k.first_fail_point is None:
            return True
        rows = set(self.membership[windows].tolist()) - {-1}
        return bool(rows) and max(rows) < k.first_fail_point
