"""`validate` says what the scenario would do, bounds included, without sending a request."""

from __future__ import annotations

from tests.support.cli import GOOD, run_cli, write


def test_validate_states_the_plan_and_its_bounds(tmp_path, capsys):
    path = write(tmp_path, GOOD.replace("rate: 1", "rate: 10").replace("duration_s: 2", "duration_s: 30"))
    code, out = run_cli(["validate", str(path), "--set", "traffic.arrivals=uniform"], capsys)
    assert code == 0
    assert "about 300 arrivals over 30 s (run.duration_s), peak 10.0 arrivals/s" in out
    code, out = run_cli(["validate", str(path), "--set", "run.max_journeys=50"], capsys)
    assert code == 0 and "about 50 arrivals over 30 s (run.duration_s), cut at run.max_journeys = 50" in out
