"""Each run owns its Locust events: nothing it attaches outlives it, and a closed table
refuses rows. Before, every run attached its recorder to Locust's global `events` and
never detached it: four runs in one process left 2, 4, 6, then 8 listeners, and the
run after `--rate-scale auto`'s probes fed every request to every earlier recorder."""

from __future__ import annotations

import locust

from authsurge.calibrate import find_capacity
from authsurge.recorder import Recorder
from authsurge.run import RunOptions, mode_for
from authsurge.scenario import parse_scenario
from tests.support.runner import scenario_text

OPEN = """
credentials: {count: 50}
journeys:
  web: {steps: [form_login, api]}
traffic:
  shape: {kind: steady, rate: 4}
run: {duration_s: 2, drain_s: 1}
"""
CLOSED = """
credentials: {count: 50}
journeys:
  web: {steps: [form_login, api]}
traffic:
  model: closed
  closed: {users: 2, spawn_rate: 10}
run: {duration_s: 2, drain_s: 1}
"""


def request_listeners() -> int:
    return len(locust.events.request._handlers)


def recorders_on(events: locust.event.Events) -> int:
    return sum(isinstance(getattr(h, "__self__", None), Recorder) for h in events.request._handlers)


def test_runs_and_calibration_probes_in_one_process_leave_no_listener_behind(tmp_path, target):
    before = request_listeners()
    counts = []
    for i, body in enumerate((OPEN, CLOSED, OPEN)):
        path = tmp_path / f"run{i}.yaml"
        path.write_text(scenario_text(target.base_url, body))
        mode = mode_for(RunOptions(scenario=parse_scenario(path.read_text(), path),
                                   out_root=tmp_path / "runs", progress=False))
        assert mode.execute().status == "complete"
        assert mode.events is not locust.events  # the run's own events ...
        assert recorders_on(mode.events) == 0  # ... with its recorder detached at the end
        counts.append(request_listeners())
    path = tmp_path / "probe.yaml"
    path.write_text(scenario_text(target.base_url, OPEN))
    find_capacity(parse_scenario(path.read_text(), path), start_rate=2, probe_s=5, max_probes=2,
                  progress=False)
    counts.append(request_listeners())
    assert counts == [before] * len(counts)
