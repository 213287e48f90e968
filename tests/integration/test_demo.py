"""`make demo` at a small scale, on a planted capacity (known answers, whatever the
machine): the embedded target caps password checks at PLANTED a second, the demo
measures it with the population on, replays the shipped surge 4x faster at 3x what it
measured, and says the answer. Split topology: the API of the signed-in people stays up
while sign-in fails. Shared (the negative): the API fails with sign-in, and the answer
says so. The shared run reuses the split
run's measured capacity (the demo's --capacity), so one calibration serves both. The
split target has threads for its whole wait queue, so that the planted capacity is what
limits it; the shared one has 4 a worker, so that waiting checks hold them all."""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from authsurge.demo import DemoOptions, run_demo
from authsurge.errors import ExitStatus
from authsurge.report.demo_answer import demo_answer
from tests.support.target import TEST_HASHER_ITERATIONS

ROOT = Path(__file__).resolve().parents[2]
PLANTED = 12.0  # password checks a second the target allows (--login-capacity)
SMALL = (
    "traffic.shape.time_compression=4",  # the 84-s trace in 21 s (rates x4, rescaled anyway)
    "run.duration_s=21",
    "credentials.count=300",
    "population.size=12",
    "population.warmup.rate=6",  # below the planted capacity
)


@dataclass
class DemoRun:
    status: int
    run_dir: Path
    printed: str
    meta: dict[str, Any]
    doc: dict[str, Any]
    answer: list[str]


def demo(tmp: Path, topology: str, threads: int, capacity: float | None = None) -> DemoRun:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = run_demo(
            DemoOptions(
                scenario=ROOT / "scenarios" / "demo_surge.yaml",
                out_root=tmp / "runs",
                overrides=SMALL,
                topology=topology,
                data_dir=tmp / "target",
                target={"login_capacity": PLANTED, "threads": threads, "users": 300,
                        "hasher_iterations": TEST_HASHER_ITERATIONS},
                start_rate=0.75 * PLANTED,
                capacity=capacity,
                progress=False,
            )
        )
    [run_dir] = (tmp / "runs").iterdir()
    answer, _ = demo_answer(run_dir)
    return DemoRun(status, run_dir, out.getvalue(), json.loads((run_dir / "meta.json").read_text()),
                   json.loads((run_dir / "analysis.json").read_text()), answer)


@pytest.fixture(scope="module")
def split(target_env, tmp_path_factory) -> DemoRun:
    # threads for the whole wait queue (a waiting check holds one): the planted capacity,
    # not the thread count, is what the calibration must find
    return demo(tmp_path_factory.mktemp("demo-split"), "split", threads=4 + int(PLANTED))


@pytest.fixture(scope="module")
def shared(target_env, split, tmp_path_factory) -> DemoRun:
    # 4 threads a worker: checks waiting for their slot take them all, and in one pool
    # the API waits behind them
    return demo(tmp_path_factory.mktemp("demo-shared"), "shared", threads=4,
                capacity=split.meta["calibration"]["capacity_rps"])


def test_the_calibration_finds_the_planted_capacity_within_ten_percent(split):
    calibration = split.meta["calibration"]
    assert calibration["capacity_rps"] == pytest.approx(PLANTED, rel=0.10), calibration["probes"]
    assert calibration["with_population"] and len(calibration["probes"]) >= 3
    assert any(not p["passed"] and p["why"] for p in calibration["probes"])  # it found an edge


def test_the_surge_peaks_above_the_measured_capacity_and_the_client_kept_up(split):
    capacity = split.meta["calibration"]["capacity_rps"]
    assert split.meta["traffic"]["peak_rate"] > 2.5 * capacity
    assert split.meta["calibration"]["peak_multiple"] == 3.0
    assert split.status != ExitStatus.RUN_FAILED, split.printed  # not generator-bound


def test_the_answer_names_the_password_step_first_or_in_its_tie_and_as_the_cause(split):
    first = [item["step"] for item in split.doc["first_to_fail"] if item["rank"] == 1]
    assert "login.submit" in first, split.doc["first_to_fail"]
    assert split.doc["cause"]["step"] == "login.submit", split.doc["cause"]
    assert any("login.submit" in sentence for sentence in split.answer), split.answer


def test_in_split_mode_the_api_of_signed_in_people_stays_up_while_sign_in_fails(split):
    contrast = split.doc["population"]["contrast"]
    assert contrast["api"]["error_rate"] < 0.01 and contrast["api_stayed_up"], contrast
    assert contrast["sign_in_held"] is False, contrast
    assert any("while the API of the people already signed in stayed up" in s for s in split.answer)
    assert "The answer:" in split.printed and str(split.run_dir) in split.printed


def test_in_shared_mode_the_api_fails_with_sign_in_and_the_answer_says_so(shared):
    contrast = shared.doc["population"]["contrast"]
    assert contrast["sign_in_held"] is False and contrast["api_stayed_up"] is False, contrast
    assert any("failed with it" in s for s in shared.answer), shared.answer
    assert shared.meta["calibration"]["probes"] == []  # it reused the split run's capacity


def test_analyze_on_the_demo_run_prints_a_sizing_line_per_step(split, capsys):
    from authsurge.cli import main

    assert main(["analyze", str(split.run_dir), "--no-plots"]) in (0, ExitStatus.GATE_FAILED)
    out = capsys.readouterr().out
    sizing = split.doc["sizing"]
    assert sizing["reference"]["hashes_per_s_per_core"] > 0  # the demo's run measured it
    if not sizing["available"]:  # this short demo's knee comes early: too few CPU samples
        assert f"Sizing: not available: {sizing['note']}" in out
        return
    lines = out.splitlines()
    for row in sizing["rows"]:
        assert any(line.startswith(f"  {row['name']}: ") and "CPU-ms/request" in line
                   for line in lines), out
    assert "PBKDF2-SHA256 hashes/s per core" in out and "vCPUs" in out
