"""Plots: every figure in PNG and SVG, with units on the axes and the knees marked."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib.image as mpimg

from authsurge.analysis import RunAnalysis
from authsurge.report.plots import capacity_figure, timeline_figure, write_plots


def test_write_plots_renders_png_and_svg(ramp_analysis: RunAnalysis, tmp_path: Path) -> None:
    files = write_plots(ramp_analysis, tmp_path / "plots")
    names = sorted(p.name for p in files)
    assert names == sorted(f"{n}.{f}" for n in ("capacity", "latency", "errors", "timeline",
                                                "step_groups") for f in ("png", "svg"))
    for path in files:
        assert path.stat().st_size > 5_000
    image = mpimg.imread(tmp_path / "plots" / "capacity.png")
    assert image.shape[0] > 400 and image.shape[1] > 600
    svg = (tmp_path / "plots" / "latency.svg").read_text()
    assert "latency (ms)" in svg and "offered load (req/s)" in svg


def test_svg_is_reproducible(ramp_analysis: RunAnalysis) -> None:
    import matplotlib

    from authsurge.report.plots import STYLE, errors_figure

    def render() -> bytes:
        out = io.BytesIO()
        with matplotlib.rc_context(STYLE):
            errors_figure(ramp_analysis).savefig(out, format="svg", metadata={"Date": None})
        return out.getvalue()

    assert render() == render()  # no timestamps, stable ids: the same analysis, the same bytes


def test_every_axis_has_a_unit_and_knees_are_marked(ramp_analysis: RunAnalysis) -> None:
    fig = capacity_figure(ramp_analysis)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "offered load (req/s)" and "req/s" in ax.get_ylabel()
    texts = [t.get_text() for t in ax.texts]
    assert any(t.startswith("login.submit knee") for t in texts)
    timeline = timeline_figure(ramp_analysis)
    main, twin = timeline.axes
    assert main.get_xlabel() == "time since start (s)" and "journeys/s" in main.get_ylabel()
    assert twin.get_ylabel().startswith("target CPU (%")
    assert {"login.submit knee", "login.form knee"} <= {t.get_text() for t in main.texts}


def test_a_run_too_short_for_any_curve_point_plots_without_warnings(tmp_path: Path) -> None:
    import warnings

    from authsurge.analysis import analyze_run
    from tests.support.synth import write_run

    run = write_run(tmp_path / "short", levels=(2,), level_s=3, seed=3)
    analysis = analyze_run(run.path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib's "No artists with labels" was one
        files = write_plots(analysis, tmp_path / "plots")
    assert len(files) == 10  # its sign-in steps make the step-group panel
