"""Golden analyses: what the analysis said about fixed run directories, to hold any new
analysis path to the same answers (issue 15: the out-of-core analysis must reproduce them).

- `synthetic_1m`: a planted-knee synthetic run of about a million request records,
  regenerated from its seed by tests/support/synth.py (only its golden analysis is stored);
- `real_ramp` and `real_shared_pool`: two short real runs of the embedded target, stored
  whole (raw records, meta, schedule, resources) under tests/goldens/<name>/run/.

Each golden is `tests/goldens/<name>/analysis.json`, written by tools/make_goldens.py from
the analysis of the day it was made, at full precision (`to_json(exact=True)`: rounded to
6 digits, a value a hair either side of a rounding boundary would read as a change). Never regenerate one to make a test pass: a
difference is a change of the analysis's answers, to be explained.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

from authsurge.rundir import RAW_INPUTS
from tests.support.synth import SynthRun, write_run

GOLDENS = Path(__file__).resolve().parents[1] / "goldens"
REAL = ("real_ramp", "real_shared_pool")
SYNTHETIC = "synthetic_1m"
REL = 1e-9  # floats; counts, strings and the order of lists must be equal

# 10 load levels of 6.5 minutes each against the synthetic default steps (login.submit
# planted at 50/s): about a million records, the knee between the 40/s and 60/s levels
SYNTHETIC_RUN = {"levels": (10, 20, 30, 40, 50, 60, 70, 80, 90, 100), "level_s": 390, "seed": 15}


def golden(name: str) -> dict[str, Any]:
    return json.loads((GOLDENS / name / "analysis.json").read_text(encoding="utf-8"))


def as_written(doc: dict[str, Any]) -> dict[str, Any]:
    """An analysis document as analysis.json holds it (tuples become lists)."""
    return json.loads(json.dumps(doc, allow_nan=False))


def write_synthetic(path: Path) -> SynthRun:
    return write_run(path, **SYNTHETIC_RUN)  # type: ignore[arg-type]


def copy_real(name: str, dest: Path) -> Path:
    """A fresh copy of a stored real run (the analysis writes beside the raw data)."""
    shutil.copytree(GOLDENS / name / "run", dest)
    return dest


def store_raw(run_dir: Path, dest: Path) -> None:
    """Keep only the raw inputs of a run directory (not what analyze wrote beside them)."""
    dest.mkdir(parents=True)
    shutil.copytree(run_dir / "requests", dest / "requests")
    for name in RAW_INPUTS:
        if (run_dir / name).exists():
            shutil.copy2(run_dir / name, dest / name)


def differences(actual: Any, expected: Any, rel: float = REL, where: str = "$") -> list[str]:
    """Every place where two analysis documents differ beyond `rel` (JSON paths)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        found = [f"{where}: keys {sorted(set(actual) ^ set(expected))} on one side only"] \
            if set(actual) != set(expected) else []
        for key in expected.keys() & actual.keys():
            found += differences(actual[key], expected[key], rel, f"{where}.{key}")
        return found
    if isinstance(expected, list) and isinstance(actual, list):
        if len(actual) != len(expected):
            return [f"{where}: {len(actual)} items, golden {len(expected)}"]
        return [d for i, (a, e) in enumerate(zip(actual, expected, strict=True))
                for d in differences(a, e, rel, f"{where}[{i}]")]
    # a count must stay an int; a float may come back as an int (3.0 written as 3)
    if isinstance(expected, float) and type(actual) in (int, float):
        if math.isclose(actual, expected, rel_tol=rel, abs_tol=0.0):
            return []
    elif type(actual) is type(expected) and actual == expected:
        return []
    return [f"{where}: {actual!r}, golden {expected!r}"]
