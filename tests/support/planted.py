"""Synthetic runs with planted capacities, shared by the report and compare tests.

Built with the analysis tests' generator (tests/support/synth.py). Each run is written and
analysed once per test session, whichever test directory asks first, because writing and
analysing one costs a few seconds: a module-level cache keyed by name.

- "base": login.form 80/s, login.submit 50/s, api.call 1000/s (healthy), seed 7;
- "same": the same capacities, another seed (a rerun of an unchanged release);
- "slower_login": login.submit planted 30% lower (35/s), another seed;
- "ramp_a", "ramp_b": the base capacities under a continuous linear ramp (no load levels),
  two seeds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from authsurge.analysis import RunAnalysis, analyze_run
from tests.support.synth import DEFAULT_STEPS, Step, SynthRun, write_run

LOGIN_CAPACITY = 50.0
SLOWER = 0.30  # planted: login.submit capacity 30% lower in "slower_login"

PLANTED: dict[str, dict[str, Any]] = {
    "base": {"seed": 7},
    "same": {"seed": 8},
    "slower_login": {"seed": 9, "steps": tuple(
        Step(s.name, LOGIN_CAPACITY * (1 - SLOWER), s.base_ms, s.calls, s.method)
        if s.name == "login.submit" else s for s in DEFAULT_STEPS)},
    "ramp_a": {"seed": 11, "ramp": (5.0, 100.0, 150)},
    "ramp_b": {"seed": 12, "ramp": (5.0, 100.0, 150)},
}

_runs: dict[str, SynthRun] = {}
_analyses: dict[str, RunAnalysis] = {}


def planted_run(name: str, factory: pytest.TempPathFactory) -> SynthRun:
    """The named run's directory (treat it as read-only: copy it to change it)."""
    if name not in _runs:
        _runs[name] = write_run(factory.mktemp("planted") / name, **PLANTED[name])
    return _runs[name]


def planted_analysis(name: str, factory: pytest.TempPathFactory) -> RunAnalysis:
    if name not in _analyses:
        _analyses[name] = analyze_run(planted_run(name, factory).path)
    return _analyses[name]


def copy_run(name: str, factory: pytest.TempPathFactory, dest: Path, **meta: Any) -> Path:
    """A private copy of a planted run, with meta.json keys replaced (e.g. slos=[...])."""
    import json
    import shutil

    shutil.copytree(planted_run(name, factory).path, dest)
    path = dest / "meta.json"
    doc = json.loads(path.read_text())
    doc.update(meta, run_id=dest.name)
    path.write_text(json.dumps(doc))
    return dest
