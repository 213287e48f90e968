"""A run's curves as one table (analysis/curves_table.py), on a planted run."""

from __future__ import annotations

import pytest

from authsurge.analysis.tables import COLUMNS, curves_table
from tests.support.planted import planted_analysis


def test_every_curve_point_is_a_row_and_past_knee_starts_at_the_planted_knee(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    doc = planted_analysis("base", tmp_path_factory).to_json()
    table = curves_table(doc)
    assert list(table.columns) == list(COLUMNS)
    expected = sum(len(e["curve"]) for s in ("steps", "journeys") for e in doc[s].values())
    assert len(table) == expected
    submit = table[table["series"] == "login.submit"]
    knee = doc["steps"]["login.submit"]["knee"]["offered"]
    assert list(submit["past_knee"]) == [o >= knee for o in submit["offered"]]
    assert submit["past_knee"].any() and not submit["past_knee"].all()
    assert list(submit["offered"]) == sorted(submit["offered"])
    api = table[table["series"] == "api.call"]
    assert not api["past_knee"].any()  # planted healthy: no knee, nothing past it
