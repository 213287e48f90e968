"""The live line of a run: arrivals are the plan's rate, completions and goodput the recorder's."""

from __future__ import annotations

import io
from types import SimpleNamespace

import numpy as np

from authsurge.run.progress_line import Progress
from authsurge.traffic.schedule import Plan


def test_the_line_separates_offered_arrivals_from_completions():
    # 20 arrivals/s planned; the overloaded target completes 5/s of which 4/s succeed
    plan = Plan(np.arange(0, 10, 0.05), np.zeros(200, dtype=np.int32), ["web"])
    recorder = SimpleNamespace(journeys=0, journeys_ok=0, dropped=0)
    sampler = SimpleNamespace(latest={"target_cpu": 197.0})
    progress = Progress(plan, 1000.0, 10, recorder, environment=None, sampler=sampler,
                        stream=io.StringIO())
    recorder.journeys, recorder.journeys_ok, recorder.dropped = 25, 20, 3
    line = progress.line(1005.0)
    assert line.startswith("[    5/10 s] arrivals   20.0/s  completed    5.0/s  goodput    4.0/s")
    assert "done 25 of 100 planned  failed 5  dropped 3" in line
    assert line.endswith("target CPU 197%")
    recorder.journeys, recorder.journeys_ok = 35, 30  # the next interval is its own
    assert "arrivals   20.0/s  completed    5.0/s  goodput    5.0/s" in progress.line(1007.0)
