"""Every user-facing command on run directories made by real runs (tests/support/real_runs.py).

The synthetic known-answer tests stay beside these; these catch what only real runs have:
thin curve points, levels a step never reaches, ragged windows. `compare` once crashed on
its first pair of real runs because its tests used only synthetic ones.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from authsurge.cli import main
from authsurge.errors import ExitStatus
from tests.support.real_runs import PLANTED, SLOWER, RealRuns

PNG = b"\x89PNG\r\n\x1a\n"


def cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    return code, out.out, out.err


@pytest.fixture(scope="module")
def analysed(real_runs: RealRuns) -> RealRuns:
    """`authsurge analyze` (with plots) on every run once, as a user would before `runs`."""
    for run in (real_runs.base, real_runs.rerun, real_runs.slower):
        assert main(["analyze", str(run)]) == ExitStatus.SUCCESS
    return real_runs


def test_analyze_finds_the_planted_login_capacity_of_a_real_run(analysed: RealRuns) -> None:
    doc = json.loads((analysed.base / "analysis.json").read_text())
    submit = doc["steps"]["login.submit"]
    assert submit["knee"]["reached"]
    assert submit["knee"]["capacity"] == pytest.approx(PLANTED, rel=0.15)
    assert doc["first_to_fail"][0]["step"] == "login.submit"
    assert sorted(p.name for p in (analysed.base / "plots").glob("*.png"))


def test_analyze_json_prints_the_same_document_it_writes(analysed: RealRuns,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(["analyze", str(analysed.slower), "--json", "--no-plots"], capsys)
    assert code == ExitStatus.SUCCESS
    printed = json.loads(out)
    written = json.loads((analysed.slower / "analysis.json").read_text())
    assert printed["steps"]["login.submit"] == written["steps"]["login.submit"]
    capacity = printed["steps"]["login.submit"]["knee"]["capacity"]
    assert capacity == pytest.approx(PLANTED * (1 - SLOWER), rel=0.15)


def test_report_of_a_real_run_is_written(analysed: RealRuns, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "report.html"
    code, out, _ = cli(["report", str(analysed.base), "-o", str(out_file)], capsys)
    assert code == ExitStatus.SUCCESS and f"report: {out_file}" in out
    html = out_file.read_text()
    assert "login.submit" in html and "Compared with the baseline" not in html


def test_report_with_a_baseline_of_real_runs_shows_the_regression(
        analysed: RealRuns, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "report.html"
    code, _, _ = cli(["report", str(analysed.slower), "--baseline", str(analysed.base),
                      "-o", str(out_file)], capsys)
    assert code == ExitStatus.SUCCESS  # report renders; compare and analyze are the gates
    html = out_file.read_text()
    assert "Compared with the baseline" in html and "regression" in html


def test_report_summary_of_real_runs_says_what_changed(analysed: RealRuns, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(["report", str(analysed.slower), "--summary", "--baseline",
                        str(analysed.base), "-o", str(tmp_path)], capsys)
    assert code == ExitStatus.SUCCESS
    text = (tmp_path / "summary.md").read_text()
    assert "login.submit" in text and "Compared with" in text
    assert f"summary: {tmp_path / 'summary.md'}" in out


def test_compare_catches_a_real_capacity_drop_and_exits_1(analysed: RealRuns, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    plot = tmp_path / "compare.png"
    code, out, _ = cli(["compare", str(analysed.base), str(analysed.slower), "--plot", str(plot)],
                       capsys)
    assert code == ExitStatus.GATE_FAILED
    assert "verdict: regression" in out and "login.submit: worse" in out
    assert plot.read_bytes()[:8] == PNG


def test_compare_json_of_a_real_capacity_drop_measures_it(analysed: RealRuns,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(["compare", str(analysed.base), str(analysed.slower), "--json",
                        "--fail-on", "none"], capsys)
    assert code == ExitStatus.SUCCESS  # --fail-on none: a regression is reported, not a gate
    doc = json.loads(out)
    assert doc["verdict"] == "regression"
    assert "login.submit: capacity" in doc["regressions"]
    capacity = doc["steps"]["login.submit"]["capacity"]
    assert capacity["change"] == pytest.approx(-SLOWER, abs=0.1)


def test_compare_of_two_real_reruns_finds_no_change_in_the_planted_step(
        analysed: RealRuns, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(["compare", str(analysed.base), str(analysed.rerun), "--json"], capsys)
    doc = json.loads(out)
    submit = doc["steps"]["login.submit"]
    assert submit["capacity"]["label"] == "no detectable change"
    assert abs(submit["capacity"]["change"]) < 0.1
    # exit 1 means a gate failed, and nothing else
    assert code == (ExitStatus.GATE_FAILED if doc["regressions"] else ExitStatus.SUCCESS)


def test_runs_lists_real_runs_and_plots_their_trend(analysed: RealRuns, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    trend = tmp_path / "trend.png"
    code, out, _ = cli(["runs", "--root", str(analysed.root), "--trend", str(trend)], capsys)
    assert code == ExitStatus.SUCCESS
    for run in (analysed.base, analysed.rerun, analysed.slower):
        assert run.name in out
    assert "trend:" in out and "3 analysed run(s)" in out
    assert trend.read_bytes()[:8] == PNG


def script(name: str, *args: str) -> tuple[int, str, str]:
    """One of the thin scripts in analysis/, as a user runs it."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[3]
    proc = subprocess.run([sys.executable, str(root / "analysis" / name), *args],
                          capture_output=True, text=True, timeout=300, check=False)
    assert "Traceback" not in proc.stdout + proc.stderr
    return proc.returncode, proc.stdout, proc.stderr


def test_curves_table_lists_every_curve_point_with_the_knee_of_a_real_run(analysed: RealRuns,
                                                                          tmp_path: Path) -> None:
    import pandas as pd

    code, out, _ = script("curves_table.py", str(analysed.base), "--csv", str(tmp_path / "c.csv"))
    assert code == ExitStatus.SUCCESS and "curve points" in out
    table = pd.read_csv(tmp_path / "c.csv")
    doc = json.loads((analysed.base / "analysis.json").read_text())
    submit = table[table["series"] == "login.submit"]
    assert len(submit) == len(doc["steps"]["login.submit"]["curve"])
    knee = doc["steps"]["login.submit"]["knee"]["offered"]
    assert submit["past_knee"].any() and (submit[submit["past_knee"]]["offered"] >= knee).all()
    code, out, _ = script("curves_table.py", str(analysed.base))
    assert code == ExitStatus.SUCCESS and "login.submit" in out and "goodput" in out


def test_overlay_plots_the_curves_of_several_real_runs(analysed: RealRuns, tmp_path: Path) -> None:
    out_file = tmp_path / "overlay.png"
    code, _, _ = script("overlay.py", str(analysed.base), str(analysed.slower), "-o", str(out_file),
                        "--step", "login.submit")
    assert code == ExitStatus.SUCCESS and out_file.read_bytes().startswith(PNG)


def test_analysis_scripts_refuse_bad_input_with_exit_2(analysed: RealRuns, tmp_path: Path) -> None:
    code, _, err = script("curves_table.py", str(tmp_path))
    assert code == ExitStatus.BAD_INPUT and "curves_table.py: error" in err
    code, _, err = script("overlay.py", str(analysed.base), "--step", "no.such.step",
                          "-o", str(tmp_path / "x.png"))
    assert code == ExitStatus.BAD_INPUT and "no.such.step is not in every run" in err
