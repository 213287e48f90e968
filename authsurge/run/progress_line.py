"""A live progress line during a run: elapsed/total, arrival and completion rates, goodput,
errors, dropped arrivals, worst p95, target CPU."""

from __future__ import annotations

import gevent

import sys
import time
from typing import Any, TextIO

import numpy as np

from authsurge.traffic.schedule import Plan


class Progress:
    """Redraws one line on a terminal every second; prints a plain line every 5 s otherwise."""

    def __init__(
        self,
        plan: Plan,
        t0: float,
        duration: float,
        recorder: Any,
        environment: Any,
        sampler: Any = None,
        *,
        enabled: bool = True,
        stream: TextIO | None = None,
    ) -> None:
        self.plan = plan
        self.t0 = t0
        self.duration = duration
        self.recorder = recorder
        self.environment = environment
        self.sampler = sampler
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._last = (t0, 0, 0, 0)
        self._stopped = False

    def line(self, now: float) -> str:
        """Since the last line: the planned arrival rate (what an open model offers, late or
        not), the completion rate and goodput; totals so far; worst p95 and target CPU."""
        elapsed = max(0.0, now - self.t0)
        t_prev, planned_prev, journeys_prev, ok_prev = self._last
        dt = max(now - t_prev, 1e-6)
        planned = int(np.searchsorted(self.plan.times, elapsed))
        journeys, ok = self.recorder.journeys, self.recorder.journeys_ok
        arrivals = (planned - planned_prev) / dt
        completed = (journeys - journeys_prev) / dt
        goodput = (ok - ok_prev) / dt
        self._last = (now, planned, journeys, ok)
        worst = self._worst_p95()
        cpu = ""
        if self.sampler is not None and "target_cpu" in self.sampler.latest:
            cpu = f"  target CPU {self.sampler.latest['target_cpu']:.0f}%"
        if now < self.t0:  # the signed-in population's warm-up: the clock has not started
            return f"[warm-up, {self.t0 - now:3.0f} s to go] signing the population in{worst}{cpu}"
        return (
            f"[{elapsed:5.0f}/{self.duration:.0f} s] arrivals {arrivals:6.1f}/s"
            f"  completed {completed:6.1f}/s  goodput {goodput:6.1f}/s"
            f"  done {journeys} of {planned} planned  failed {journeys - ok}"
            f"  dropped {self.recorder.dropped}{worst}{cpu}"
        )

    def _worst_p95(self) -> str:
        try:
            entries = self.environment.stats.entries.values()
            worst = max(
                ((e.get_current_response_time_percentile(0.95) or 0, e.name) for e in entries),
                default=None,
            )
        except Exception:  # Locust's stats API is a courtesy here, not a dependency
            return ""
        return f"  worst p95 {worst[1]} {worst[0]:.0f} ms" if worst else ""

    def run(self) -> None:
        if not self.enabled:
            return
        interval = 1.0 if self.tty else 5.0
        while not self._stopped:
            gevent.sleep(interval)
            if self._stopped:
                break
            text = self.line(time.time())
            if self.tty:
                self.stream.write("\r\x1b[2K" + text)
            else:
                self.stream.write(text + "\n")
            self.stream.flush()

    def stop(self) -> None:
        self._stopped = True
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()
