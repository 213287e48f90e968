"""The sign-in against the API panel (report.step_group_plot): drawn from the analysis's
step groups, written with the other plots and shown in the HTML report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from authsurge.analysis import RunAnalysis, analyze_run
from authsurge.report.html_report import write_report
from authsurge.report.plots import write_plots
from authsurge.report.step_group_plot import step_groups_figure
from authsurge.report.summary import write_summary
from tests.support.records import frame, write_shard
from tests.unit.analysis.surge_runs import T0, Second, seconds, write_surge_run

CALM = Second(10, logout=True)
PLAN = seconds((10, CALM), (10, Second(40, ok=False, latency_ms=500.0)),
               (5, Second(10, ok=False, latency_ms=5.0, retries=10)), (25, CALM))


@pytest.fixture(scope="module")
def surge_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_surge_run(tmp_path_factory.mktemp("surge") / "run", PLAN, population=True,
                           api_per_s=5)


@pytest.fixture(scope="module")
def surge_analysis(surge_run: Path) -> RunAnalysis:
    return analyze_run(surge_run)


def test_the_panel_draws_each_group_the_surge_behind_them_and_the_recovery(
    surge_analysis: RunAnalysis,
) -> None:
    fig = step_groups_figure(surge_analysis)
    assert fig is not None
    top, bottom = fig.axes[:2]
    assert top.get_ylabel() == "error rate (% of completed requests)"
    assert bottom.get_ylabel().startswith("p95 latency (ms")
    assert bottom.get_xlabel() == "time since start (s)"
    assert [line.get_label() for line in top.get_lines()[:3]] == [
        "sign-in", "sign-out", "API of signed-in people"]
    twins = [ax for ax in fig.axes[2:] if ax.get_ylabel() == "sign-in arrivals (journeys/s)"]
    assert len(twins) == 2
    assert {t.get_text() for t in top.texts} == {"load below capacity", "sign-in recovered"}
    marked = sorted(line.get_xdata()[0] for line in top.get_lines()
                    if line.get_linestyle() == "--" and line.get_label().startswith("_"))
    assert marked == [20.0, 25.0]  # the fall and the planted recovery 5 s later
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "sign-in arrivals (journeys/s, right)" in legend
    assert "capacity (calibration, journeys/s, right)" in legend


def test_the_panel_file_is_written_with_the_plots_and_shown_in_the_report(
    surge_run: Path, surge_analysis: RunAnalysis, tmp_path: Path
) -> None:
    written = write_plots(surge_analysis, tmp_path / "plots")
    assert {p.name for p in written} >= {"step_groups.png", "step_groups.svg"}
    svg = (tmp_path / "plots" / "step_groups.svg").read_text()
    assert "time since start (s)" in svg and "sign-in arrivals (journeys/s)" in svg
    html = write_report(surge_run).read_text(encoding="utf-8")
    assert "Sign-in against the API of signed-in people" in html
    assert "while the API of signed-in people stayed up" in html


def test_a_run_without_any_group_has_no_panel_and_loses_an_old_one(tmp_path: Path) -> None:
    run = tmp_path / "run"
    rows = frame([{"step": "api.call", "t_start": T0 + 0.1 * i, "latency_ms": 5.0} for i in range(50)])
    write_shard(rows, run / "requests" / "worker-0.parquet")
    meta = {"format_version": 2, "started_at": T0, "ended_at": T0 + 5}
    (run / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "step_groups.png").write_bytes(b"an earlier analysis's")
    with analyze_run(run) as analysis:
        assert step_groups_figure(analysis) is None
        written = write_plots(analysis, tmp_path / "plots")
    assert len(written) == 8 and not (tmp_path / "plots" / "step_groups.png").exists()


def test_the_leadership_summary_says_the_api_stayed_up_and_sign_in_recovered(
    surge_run: Path, tmp_path: Path
) -> None:
    files = write_summary(surge_run, tmp_path, pdf=False)
    text = " ".join(files.sentences)
    assert "while the API of the people already signed in stayed up" in text
    assert "sign-in recovered in 5 seconds" in text
    assert "stayed up" in files.markdown.read_text(encoding="utf-8")
