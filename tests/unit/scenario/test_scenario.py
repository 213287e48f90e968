"""Scenario files: every shipped one validates; broken ones say file, line, key and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from authsurge.errors import ScenarioError
from authsurge.scenario import Slo, apply_override, load_scenario, parse_scenario
from authsurge.traffic import build_plan, curves_for

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))

GOOD = """\
name: t
journeys:
  web: {steps: [form_login, api, form_logout]}
traffic:
  shape: {kind: steady, rate: 5}
run: {duration_s: 10}
"""


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_every_shipped_scenario_validates_and_plans(path: Path):
    scenario = load_scenario(path)
    curves = curves_for(scenario, rate_scale=1.0 if getattr(scenario.traffic.shape, "rate_scale", None) == "auto" else None)
    assert build_plan(curves, seed=scenario.traffic.seed).times.size > 0


def test_shipped_scenarios_exist():
    assert {p.name for p in SHIPPED} >= {"demo_surge.yaml", "demo_spike.yaml", "appstore_surge.yaml"}


BROKEN = [
    # (case, yaml, expected line, words the message must contain)
    ("yaml syntax", "name: t\njourneys: [\n", 3, ["YAML syntax error"]),
    ("unknown key with hint", GOOD.replace("run: {duration_s: 10}", "run: {duraton_s: 10}"), 6,
     ["run.duraton_s", "unknown key", "did you mean 'duration_s'"]),
    ("unknown shape key", GOOD.replace("rate: 5", "rate: 5, rat: 3"), 5, ["traffic.shape.rat", "did you mean 'rate'"]),
    ("wrong type", GOOD.replace("rate: 5", "rate: fast"), 5, ["traffic.shape.rate", "number"]),
    ("negative rate", GOOD.replace("rate: 5", "rate: -2"), 5, ["traffic.shape.rate", "greater than or equal to 0"]),
    ("unknown step group", GOOD.replace("form_logout]", "form_logot]"), 3, ["journeys.web.steps", "form_logout"]),
    ("host not allowed", GOOD + "target: {base_url: 'http://auth.example:8000'}\n", 7,
     ["auth.example", "allowed_hosts"]),
    ("mix names unknown journey", GOOD.replace("rate: 5}", "rate: 5}\n  mix: {mobile: 1}"), 6, ["mix", "mobile"]),
    ("oidc step without oidc settings", GOOD.replace("form_login, api", "oidc_login, api"), None, ["flows.oidc"]),
    ("missing traffic", "name: t\njourneys:\n  web: {steps: [api]}\n", None, ["traffic", "required"]),
    ("not a mapping", "- just\n- a list\n", None, ["must be a YAML mapping"]),
    ("bad SLO", GOOD + "slos: ['login p95 is fast']\n", 7, ["cannot read SLO"]),
]


@pytest.mark.parametrize("case,text,line,words", BROKEN, ids=[c[0] for c in BROKEN])
def test_broken_scenarios_name_file_line_key_and_expectation(case, text, line, words):
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, Path("broken.yaml"))
    message = str(err.value)
    assert message.startswith("broken.yaml")
    if line is not None:
        assert f"broken.yaml:{line}:" in message
    for word in words:
        assert word in message


def test_missing_scenario_file_is_a_scenario_error(tmp_path):
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario(tmp_path / "nope.yaml")


def test_overrides_set_nested_values_parsed_as_yaml():
    scenario = parse_scenario(GOOD, Path("x.yaml"), ["traffic.shape.rate=12.5", "run.workers=2",
                                                     "target.timeout_s=3"])
    assert scenario.traffic.shape.rate == 12.5
    assert scenario.run.workers == 2 and scenario.target.timeout_s == 3


@pytest.mark.parametrize("item", ["novalue", "=3", "name.sub=1"])
def test_malformed_overrides_are_scenario_errors(item):
    with pytest.raises(ScenarioError, match="--set"):
        apply_override({"name": "t"}, item)


def test_relative_oidc_issuer_follows_the_target():
    text = GOOD + ("flows:\n  oidc: {issuer: /o, client: {client_id: c}, redirect_uri: 'http://127.0.0.1/cb'}\n")
    scenario = parse_scenario(text, Path("x.yaml"), ["target.base_url=http://127.0.0.1:9123"])
    assert scenario.flows.oidc.issuer == "http://127.0.0.1:9123/o"


@pytest.mark.parametrize("text,expected", [
    ("login.submit p95 < 800ms at offered <= 100/s", Slo(step="login.submit", metric="p95", max=800, at_offered_max=100)),
    ("* error_rate < 1%", Slo(step="*", metric="error_rate", max=0.01)),
    ("api.call p99 <= 1.5s", Slo(step="api.call", metric="p99", max=1500)),
    ("error_rate < 1%", Slo(step="*", metric="error_rate", max=0.01)),  # no step: every step
    ("p95 < 800ms", Slo(step="*", metric="p95", max=800)),
])
def test_slo_strings_are_parsed(text, expected):
    assert Slo.parse(text) == expected


def test_resolved_scenario_holds_no_secret_values(monkeypatch):
    monkeypatch.setenv("AUTHSURGE_PASSWORD", "hunter2-very-secret")
    scenario = parse_scenario(GOOD, Path("x.yaml"))
    assert "hunter2-very-secret" not in repr(scenario.public_dict())
    assert scenario.public_dict()["credentials"]["password_env"] == "AUTHSURGE_PASSWORD"
