"""Several runs' capacity curves on one plot (analysis/overlay.py), on planted runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from authsurge.errors import BadInput
from authsurge.report.overlay import overlay_figure, write_overlay
from tests.support.planted import planted_analysis


def test_one_line_per_run_and_step_with_units_on_both_axes(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    docs = [planted_analysis(n, tmp_path_factory).to_json() for n in ("base", "slower_login")]
    ax = overlay_figure(docs, ["base", "slower"], ["login.submit", "login.form"]).axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    for label in ("login.submit, base", "login.submit, slower", "login.form, slower"):
        assert label in labels
    assert "req/s" in ax.get_xlabel() and "req/s" in ax.get_ylabel()
    out = write_overlay(docs, ["base", "slower"], tmp_path / "o.png")
    assert out.read_bytes().startswith(b"\x89PNG")


def test_a_step_missing_from_a_run_is_bad_input_naming_the_shared_steps(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    doc = planted_analysis("base", tmp_path_factory).to_json()
    with pytest.raises(BadInput, match="no.such is not in every run; the runs share: login"):
        overlay_figure([doc], ["base"], ["no.such"])
