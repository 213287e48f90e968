"""A fresh clone has everything the two commands need (CI runs `make test` in one for real)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    dest = tmp_path_factory.mktemp("clone") / "authsurge"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(dest)], check=True, timeout=120)
    return dest


def dry_run(clone: Path, target: str) -> str:
    proc = subprocess.run(["make", "-n", target], cwd=clone, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("target", ["demo", "test"])
def test_make_target_sets_up_the_virtualenv_then_runs(clone, target):
    commands = dry_run(clone, target)
    assert "-m venv .venv" in commands
    assert "pip install -q -e '.[dev]'" in commands
    assert (".venv/bin/authsurge demo" if target == "demo" else ".venv/bin/python -m pytest") in commands


def test_ci_entry_point_calls_make_test(clone):
    assert "make test" in (clone / ".ci" / "run").read_text()


def test_the_clone_collects_the_whole_suite(clone):
    proc = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
                          cwd=clone, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "error" not in proc.stdout.lower().split("\n")[-2]
    collected = int(proc.stdout.strip().splitlines()[-1].split()[0])
    assert collected > 200


def test_shipped_files_are_in_the_clone(clone):
    for path in ["scenarios/demo_surge.yaml", "scenarios/traces/demo_surge.csv",
                 "scenarios/demo_spike.yaml", "scenarios/appstore_surge.yaml", "scenarios/traces/appstore_surge.csv",
                 "locustfiles/closed_users.py", "analysis/capacity_walkthrough.ipynb", "README.md", "pyproject.toml"]:
        assert (clone / path).exists(), path
