"""Run history: listing and filtering runs, and the capacity trend across releases.

The runs here are just meta.json and analysis.json files: history reads nothing else.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.image as mpimg
import pytest

from authsurge.cli import main
from authsurge.errors import ExitStatus
from authsurge.history import list_runs
from authsurge.report.trend import trend_figure

T0 = 1_700_000_000.0


def fake_run(root: Path, name: str, *, started: float, version: str | None, scenario: str = "surge",
             base_url: str = "http://127.0.0.1:8000", knees: dict[str, tuple[float, bool]] | None = None
             ) -> Path:
    path = root / name
    path.mkdir(parents=True)
    meta = {"format_version": 1, "run_id": name, "scenario": scenario, "status": "complete",
            "started_at": started, "target": {"base_url": base_url, "version": version},
            "traffic": {"started_journeys": 1000}}
    (path / "meta.json").write_text(json.dumps(meta))
    if knees is not None:
        steps = {s: {"knee": {"reached": reached, "offered": cap * 1.1 if reached else None,
                              "capacity": cap}} for s, (cap, reached) in knees.items()}
        first = min((s for s, (_, r) in knees.items() if r), key=lambda s: knees[s][0], default=None)
        analysis = {"steps": steps, "verdict": {"status": "fails"},
                    "first_to_fail": [{"step": first}] if first else []}
        (path / "analysis.json").write_text(json.dumps(analysis))
    return path


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    fake_run(tmp_path, "20231114T000000Z-surge", started=T0, version="2.3.0",
             knees={"login.submit": (50.0, True), "api.call": (300.0, False)})
    fake_run(tmp_path, "20231121T000000Z-surge", started=T0 + 7 * 86400, version="2.4.0",
             knees={"login.submit": (35.0, True), "api.call": (310.0, False)})
    fake_run(tmp_path, "20231122T000000Z-surge", started=T0 + 8 * 86400, version="2.4.1")  # not analysed
    fake_run(tmp_path, "20231123T000000Z-other", started=T0 + 9 * 86400, version="9", scenario="other",
             base_url="http://127.0.0.1:9000", knees={"login.submit": (80.0, True)})
    (tmp_path / "not-a-run").mkdir()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "meta.json").write_text("{")
    return tmp_path


def test_lists_runs_newest_first_with_their_knees(root: Path) -> None:
    rows = list_runs(root)
    assert [r["run_id"] for r in rows] == ["20231123T000000Z-other", "20231122T000000Z-surge",
                                           "20231121T000000Z-surge", "20231114T000000Z-surge"]
    release = rows[2]
    assert release["version"] == "2.4.0" and release["first_to_fail"] == "login.submit"
    assert release["knees"]["login.submit"] == {"offered": pytest.approx(38.5), "capacity": 35.0,
                                                "reached": True}
    assert rows[1]["analysed"] is False and rows[1]["knees"] == {}


def test_filters_by_scenario_and_target(root: Path) -> None:
    assert {r["scenario"] for r in list_runs(root, scenario="surge")} == {"surge"}
    assert [r["run_id"] for r in list_runs(root, target="9000")] == ["20231123T000000Z-other"]
    assert [r["run_id"] for r in list_runs(root, target="2.4.0")] == ["20231121T000000Z-surge"]


def test_trend_has_one_line_per_step_over_versions(root: Path) -> None:
    fig = trend_figure(list_runs(root, scenario="surge"))
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines() if not line.get_label().startswith("_")}
    assert set(lines) == {"login.submit", "api.call"}
    assert list(lines["login.submit"].get_ydata()) == [50.0, 35.0]  # oldest release first
    assert [t.get_text().split("\n")[0] for t in ax.get_xticklabels()] == ["2.3.0", "2.4.0"]
    assert ax.get_ylabel() == "capacity at the knee (successful req/s)"
    assert ax.get_xlabel().startswith("target version") and ax.get_title()


def test_trend_uses_start_time_when_a_run_has_no_version(tmp_path: Path) -> None:
    fake_run(tmp_path, "a", started=T0, version=None, knees={"login.submit": (50.0, True)})
    fake_run(tmp_path, "b", started=T0 + 3600, version="2.0", knees={"login.submit": (52.0, True)})
    ax = trend_figure(list_runs(tmp_path)).axes[0]
    assert ax.get_xlabel() == "run start (UTC)"


def test_runs_cli_lists_and_writes_the_trend(root: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    out_png = tmp_path / "trend" / "trend.png"
    code = main(["runs", "--root", str(root), "--scenario", "surge", "--trend", str(out_png)])
    out = capsys.readouterr().out
    assert code == ExitStatus.SUCCESS
    assert "20231121T000000Z-surge" in out and "login.submit (38.5)" in out
    assert "(not analysed)" in out and "other" not in out
    assert "2 analysed run(s); 1 never analysed" in out
    image = mpimg.imread(out_png)
    assert image.shape[0] > 400 and image.shape[1] > 700


def test_runs_cli_with_nothing_to_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runs", "--root", str(tmp_path)]) == ExitStatus.SUCCESS
    assert "no runs under" in capsys.readouterr().out
