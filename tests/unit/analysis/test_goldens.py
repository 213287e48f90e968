"""The analysis gives the golden answers (tests/support/goldens.py): a planted-knee
synthetic run of about a million records and two stored real runs of the embedded target.
Exact counts, strings and list order; floats within 1e-9 relative."""

from __future__ import annotations

from pathlib import Path

import pytest

from authsurge.analysis import analyze_run
from tests.support.goldens import (
    REAL,
    SYNTHETIC,
    as_written,
    copy_real,
    differences,
    golden,
    write_synthetic,
)
from tests.support.synth import SynthRun


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> SynthRun:
    return write_synthetic(tmp_path_factory.mktemp("golden") / SYNTHETIC)


def test_the_million_record_planted_knee_run_gives_the_golden_analysis(synthetic: SynthRun) -> None:
    expected = golden(SYNTHETIC)
    assert expected["run"]["records"] == synthetic.rows > 900_000
    assert expected["first_to_fail"][0]["step"] == "login.submit"  # the planted knee
    assert differences(as_written(analyze_run(synthetic.path).to_json(exact=True)), expected) == []


@pytest.mark.parametrize("name", REAL)
def test_a_stored_real_run_gives_the_golden_analysis(name: str, tmp_path: Path) -> None:
    expected = golden(name)
    assert any(item["knee"] is not None for item in expected["first_to_fail"])  # a run that bends
    actual = as_written(analyze_run(copy_real(name, tmp_path / name)).to_json(exact=True))
    assert differences(actual, expected) == []


def test_the_comparison_sees_a_count_a_float_past_the_tolerance_a_count_as_float_and_a_reordered_list() -> None:
    doc = {"records": 10, "p95": 1.0, "ranking": ["a", "b"], "name": "x"}
    assert differences(dict(doc), doc) == []
    assert differences({**doc, "p95": 1.0 + 1e-12}, doc) == []
    assert differences({**doc, "records": 11}, doc) == ["$.records: 11, golden 10"]
    assert differences({**doc, "records": 10.0}, doc) != []  # a count must stay an int
    assert differences({**doc, "p95": 1}, {**doc, "p95": 1.0}) == []
    assert differences({**doc, "p95": 1.0 + 1e-8}, doc) != []
    assert differences({**doc, "ranking": ["b", "a"]}, doc) != []
    assert differences({k: v for k, v in doc.items() if k != "name"}, doc) != []
