"""The abort switch (scenario run.abort_on): stops a run whose target is plainly down.

Once a second the switch reads Locust's request statistics (in a distributed run, the
master's, which move only when a worker reports, every 3 s: a window there can hold up to
3 s more or less than it says, and a condition can hold up to 3 s later) and keeps a
snapshot. Latencies are Locust's, rounded (to 10 ms from 100 ms, 100 ms from 1 s, 1 s
from 10 s), so a threshold holds once the rounded value is above it. A condition is judged
over the last `for_s` seconds, the difference between the newest snapshot and the one
taken `for_s` seconds before it, once the run has lasted that long and at least
MIN_REQUESTS requests completed in the window: fewer say too little to stop a run.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

from authsurge.scenario.abort import AbortCondition

MIN_REQUESTS = 10
TICK_S = 1.0


@dataclass(frozen=True)
class Abort:
    """Why a run was stopped: meta.json's `aborted`."""

    condition: str  # as the scenario wrote it
    measured: str  # e.g. "error_rate 100.0% over the last 3 s (41 requests)"
    at: float  # epoch s

    def as_dict(self) -> dict[str, Any]:
        return {"condition": self.condition, "measured": self.measured, "at": self.at}


@dataclass(frozen=True)
class _Snapshot:
    t: float
    requests: int
    failures: int
    times: Counter[int]  # Locust's rounded response times (ms) -> count


class AbortSwitch:
    """Judges the conditions over Locust's statistics (`locust.stats.RequestStats`)."""

    def __init__(self, conditions: list[AbortCondition], stats: Any) -> None:
        self.conditions = conditions
        self.stats = stats
        self.snapshots: dict[str, deque[_Snapshot]] = {c.step: deque() for c in conditions}
        self._last: float | None = None  # when the last snapshots were taken

    def tick(self, now: float) -> Abort | None:
        """Take a snapshot (at most one a TICK_S) and judge; the first condition that
        holds, or None."""
        if self._last is not None and now - self._last < TICK_S:
            return None
        self._last = now
        for step, kept in self.snapshots.items():
            kept.append(self._snapshot(step, now))
            # keep what the longest window over this step needs, and one before it
            longest = max(c.for_s for c in self.conditions if c.step == step)
            while len(kept) > 2 and kept[1].t <= now - longest:
                kept.popleft()
        for condition in self.conditions:
            measured = self._judge(condition, now)
            if measured is not None:
                return Abort(condition.text, measured, now)
        return None

    def _snapshot(self, step: str, now: float) -> _Snapshot:
        if step == "*":
            entries = [self.stats.total]
        else:
            entries = [e for (name, _), e in self.stats.entries.items() if name == step]
        times: Counter[int] = Counter()
        for entry in entries:
            times.update(entry.response_times)
        return _Snapshot(
            now,
            sum(e.num_requests for e in entries),
            sum(e.num_failures for e in entries),
            times,
        )

    def _judge(self, condition: AbortCondition, now: float) -> str | None:
        """What was measured, when the condition holds over its window; else None."""
        kept = self.snapshots[condition.step]
        # the newest snapshot at least for_s old starts the window (allow a tick's jitter)
        starts = [s for s in kept if s.t <= now - condition.for_s + TICK_S / 2]
        if not starts:
            return None
        first, last = starts[-1], kept[-1]
        requests = last.requests - first.requests
        if requests < MIN_REQUESTS:
            return None
        window = f"over the last {last.t - first.t:.0f} s ({requests:,} requests)"
        if condition.metric == "error_rate":
            rate = (last.failures - first.failures) / requests
            return f"error_rate {rate:.1%} {window}" if rate > condition.above else None
        value = _percentile(last.times - first.times, int(condition.metric[1:]) / 100)
        if value is None or value <= condition.above:
            return None
        return f"{condition.metric} {value:,.0f} ms {window}"


def _percentile(times: Counter[int], q: float) -> float | None:
    """The q-quantile of a histogram of Locust's rounded response times (ms)."""
    total = sum(times.values())
    if total == 0:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for ms in sorted(times):
        seen += times[ms]
        if seen >= rank:
            return float(ms)
    return None
