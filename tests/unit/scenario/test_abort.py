"""run.abort_on conditions: read from their text, checked against the run."""

from __future__ import annotations

from pathlib import Path

import pytest

from authsurge.errors import ScenarioError
from authsurge.scenario import parse_scenario
from authsurge.scenario.abort import AbortCondition

SCENARIO = """
name: t
target: {{timeout_s: 5}}
journeys: {{web: {{steps: [form_login]}}}}
traffic: {{shape: {{kind: steady, rate: 1}}}}
run: {{duration_s: 900, abort_on: [{conditions}]}}
"""


@pytest.mark.parametrize(("text", "step", "metric", "above", "for_s"), [
    ("error_rate > 50% for 30s", "*", "error_rate", 0.5, 30.0),
    ("error_rate > 0.25 for 5 s", "*", "error_rate", 0.25, 5.0),
    ("login.submit p95 > 10s for 60s", "login.submit", "p95", 10_000.0, 60.0),
    ("api.call p99 > 800ms for 10s", "api.call", "p99", 800.0, 10.0),
    ("p50 > 200 for 1s", "*", "p50", 200.0, 1.0),
])
def test_a_condition_is_read_from_its_text(text, step, metric, above, for_s) -> None:
    c = AbortCondition.parse(text)
    assert (c.step, c.metric, c.above, c.for_s, c.text) == (step, metric, above, for_s, text)


@pytest.mark.parametrize(("text", "says"), [
    ("error_rate < 50% for 30s", "cannot read abort condition"),
    ("error_rate > 50%", "cannot read abort condition"),
    ("error_rate > 150% for 30s", "above 100%"),
    ("error_rate > 5ms for 30s", "a % or a fraction"),
    ("p95 > 5% for 30s", "in ms or s"),
])
def test_a_condition_that_cannot_hold_or_be_read_is_refused_with_why(text, says) -> None:
    with pytest.raises(ValueError, match=says):
        AbortCondition.parse(text)


def test_a_scenario_reads_its_conditions_and_refuses_a_window_longer_than_the_run() -> None:
    scenario = parse_scenario(SCENARIO.format(conditions='"error_rate > 50% for 30s"'), Path("s.yaml"))
    assert [c.text for c in scenario.run.abort_on] == ["error_rate > 50% for 30s"]
    with pytest.raises(ScenarioError, match="longer than the run"):
        parse_scenario(SCENARIO.format(conditions='"p95 > 1s for 90s"').replace("900", "60"), Path("s.yaml"))
    with pytest.raises(ScenarioError, match="cannot read abort condition"):
        parse_scenario(SCENARIO.format(conditions='"p95 above 1s"'), Path("s.yaml"))


def test_a_condition_that_could_never_hold_in_this_scenario_is_refused() -> None:
    # form_login makes login.form and login.submit requests, each cut off at 5 s
    parse_scenario(SCENARIO.format(conditions='"login.submit p95 > 4s for 30s"'), Path("s.yaml"))
    with pytest.raises(ScenarioError, match="no journey makes 'login.sbumit' requests"):
        parse_scenario(SCENARIO.format(conditions='"login.sbumit p95 > 4s for 30s"'), Path("s.yaml"))
    with pytest.raises(ScenarioError, match="time out after target.timeout_s"):
        parse_scenario(SCENARIO.format(conditions='"login.submit p95 > 5s for 30s"'), Path("s.yaml"))
    with pytest.raises(ScenarioError, match="less than or equal to 600"):
        parse_scenario(SCENARIO.format(conditions='"error_rate > 5% for 601s"'), Path("s.yaml"))
