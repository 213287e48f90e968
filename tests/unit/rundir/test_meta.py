"""meta.json is one typed contract: RunMeta has one writer and one reader, and every
run directory of format 1 (also one written before RunMeta existed) still reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from authsurge.errors import RunDirError
from authsurge.rundir import FORMAT_VERSION, RunMeta, read_meta, write_meta
from authsurge.rundir.meta import Level, TrafficInfo

# what the runner wrote before RunMeta, key for key (format 1, 2026-11-24)
FORMAT_1_BEFORE_RUNMETA = {
    "format_version": 1,
    "run_id": "20261124T230000Z-demo_spike",
    "scenario": "demo_spike",
    "scenario_file": "scenarios/demo_spike.yaml",
    "status": "complete",
    "started_at": 1764025200.5,
    "ended_at": 1764025300.25,
    "duration_s": 99.75,
    "planned_duration_s": 96,
    "target": {"base_url": "http://127.0.0.1:8000", "version": None, "git_commit": None,
               "pids": [101, 102]},
    "harness": {"authsurge": "0.1.0", "locust": "2.31.0", "python": "3.11.7", "host": "h",
                "user": "root", "cpu_count": 2, "workers": 1, "worker_cpu_s": {"worker-0": 12.5},
                "generator_bound_s": 0},
    "traffic": {"model": "open", "shape": "step_ramp", "arrivals": "poisson", "rate_scale": None,
                "planned_journeys": 1700, "peak_rate": 32.0, "max_concurrency": 400,
                "started_journeys": 1690, "persons": 1500, "dropped_journeys": 0,
                "requests": 6000, "shortfall": [], "on_schedule": True},
    "levels": [{"start": 1764025200.5, "end": 1764025212.5, "rate": 4.0}],
    "analysis": {"window_s": 1.0, "settle_s": 2.0},
    "slos": [],
    "command": "make demo",
}


def write(run_dir: Path, meta: dict) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "meta.json").write_text(json.dumps(meta))
    return run_dir


def test_a_format_1_meta_written_before_runmeta_reads_with_every_key(tmp_path: Path) -> None:
    warnings: list[str] = []
    meta = read_meta(write(tmp_path, FORMAT_1_BEFORE_RUNMETA), warnings)
    assert warnings == []
    assert meta.traffic.started_journeys == 1690 and meta.levels[0].rate == 4.0
    assert meta.harness.worker_cpu_s == {"worker-0": 12.5}
    # a key this version no longer writes is kept as it was, not dropped
    assert meta.as_dict()["harness"]["generator_bound_s"] == 0
    assert meta.as_dict()["target"] == FORMAT_1_BEFORE_RUNMETA["target"]


def test_what_the_writer_writes_the_reader_reads(tmp_path: Path) -> None:
    meta = RunMeta(run_id="r", scenario="s", status="complete", started_at=10.0, ended_at=20.0,
                   traffic=TrafficInfo(model="open", planned_journeys=5),
                   levels=[Level(start=10.0, end=15.0, rate=2.0)])
    write_meta(tmp_path, meta)
    assert json.loads((tmp_path / "meta.json").read_text())["format_version"] == FORMAT_VERSION
    assert read_meta(tmp_path) == meta


def test_a_damaged_section_is_left_out_with_a_warning_and_the_rest_kept(tmp_path: Path) -> None:
    damaged = {**FORMAT_1_BEFORE_RUNMETA,
               "traffic": {**FORMAT_1_BEFORE_RUNMETA["traffic"], "started_journeys": "many"},
               "started_at": "yesterday"}
    warnings: list[str] = []
    meta = read_meta(write(tmp_path, damaged), warnings)
    assert meta.started_at is None and meta.traffic.started_journeys is None
    assert meta.scenario == "demo_spike" and meta.harness.cpu_count == 2
    assert any("started_at" in w for w in warnings) and any("traffic" in w for w in warnings)


@pytest.mark.parametrize("version", [3, None, "1"])
def test_a_format_this_code_does_not_read_is_refused(tmp_path: Path, version: object) -> None:
    with pytest.raises(RunDirError, match="format_version"):
        read_meta(write(tmp_path, {**FORMAT_1_BEFORE_RUNMETA, "format_version": version}))


def test_slos_written_as_strings_are_kept(tmp_path: Path) -> None:
    slos = ["api.call p95 < 100ms", {"step": "login.submit", "metric": "p95", "max": 800.0}]
    warnings: list[str] = []
    meta = read_meta(write(tmp_path, {**FORMAT_1_BEFORE_RUNMETA, "slos": slos}), warnings)
    assert meta.slos == slos and warnings == []
