"""Fuzzed inputs: the scenario and trace loaders reject anything malformed with a clear
ScenarioError (exit 2 at the CLI), never another exception."""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authsurge.errors import ScenarioError
from authsurge.scenario import parse_scenario
from authsurge.traffic.trace_file import load_trace

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

BASE = {
    "name": "fuzz",
    "journeys": {"web": {"steps": ["form_login", "api"]}},
    "traffic": {"shape": {"kind": "steady", "rate": 1}},
}

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                    st.text(max_size=20))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(st.text(max_size=10), inner, max_size=4)),
                      max_leaves=12)
paths = st.lists(st.sampled_from(["name", "target", "base_url", "traffic", "shape", "kind", "rate", "journeys",
                                  "web", "steps", "run", "duration_s", "credentials", "pattern", "flows", "oidc",
                                  "slos", "behaviour", "retry", "share", "mix", "analysis"]), min_size=1, max_size=4)


def accept_or_scenario_error(text: str) -> None:
    try:
        parse_scenario(text, Path("fuzz.yaml"))
    except ScenarioError as exc:
        assert str(exc).startswith("fuzz.yaml")


@SETTINGS
@given(st.text(max_size=300))
def test_arbitrary_text_never_escapes_as_another_exception(text):
    accept_or_scenario_error(text)


@SETTINGS
@given(paths, values)
def test_structurally_mutated_scenarios_are_accepted_or_clearly_rejected(path, value):
    data = yaml.safe_load(yaml.safe_dump(BASE))
    node = data
    for key in path[:-1]:
        if not isinstance(node, dict):
            break
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            break
    else:
        node[path[-1]] = value
    accept_or_scenario_error(yaml.safe_dump(data))


@SETTINGS
@given(st.binary(max_size=400))
def test_arbitrary_trace_bytes_are_read_or_rejected_clearly(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("trace") / "t.csv"
    path.write_bytes(data)
    try:
        trace = load_trace(path)
    except ScenarioError as exc:
        assert str(path) in str(exc)
    else:
        assert (trace.t_s >= 0).all()


cells = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(str), st.integers(-5, 100).map(str),
                  st.text(alphabet="0123456789.-e ,x", max_size=6))


@SETTINGS
@given(st.lists(st.lists(cells, min_size=1, max_size=4), min_size=0, max_size=8))
def test_mangled_trace_rows_are_read_or_rejected_clearly(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("trace") / "t.csv"
    path.write_text("t_s,login\n" + "\n".join(",".join(r) for r in rows))
    try:
        trace = load_trace(path)
    except ScenarioError as exc:
        assert str(path) in str(exc)
    else:
        assert all((v >= 0).all() for v in trace.columns.values())
