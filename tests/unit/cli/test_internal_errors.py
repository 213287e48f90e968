"""An unexpected exception in any command exits 3, never 1 (which means only "a gate
failed"): one line on stderr naming the command and the log file, the full traceback in
that file (in the run directory when the command has one, else in the temp dir), and
never a traceback on the terminal. Everything runs in-process with a library function
forced to fail; nothing is started or loaded.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from authsurge import crashlog
from authsurge.calibrate import Calibration
from authsurge.cli import main
from authsurge.errors import BadInput, ExitStatus
from authsurge.run.worker import main as worker_main
from authsurge.target.cli import main as target_main
from authsurge.target.options import CLIENT_SECRET_ENV, PASSWORD_ENV
from authsurge.target.process import TargetStatus

ROOT = Path(__file__).resolve().parents[3]

FORCED = "forced internal error"
LOG_PATH = re.compile(r"\(full traceback: (?P<path>.+)\)$")


def boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError(FORCED)


# command as the user names it -> (argv with {tmp} for tmp_path, {module.attr: replacement}).
# The CLI imports lazily inside its cmd_* functions, so the attribute patched is the one on
# the module the function comes from.
CASES: dict[str, tuple[list[str], dict[str, Callable[..., Any]]]] = {
    "run": (
        ["run", "{tmp}/s.yaml", "--out", "{tmp}/runs", "--no-progress"],
        {"authsurge.scenario.load_scenario": boom},
    ),
    "worker": (["worker", "--master-port", "1"], {"authsurge.run.worker.serve": boom}),
    "validate": (["validate", "{tmp}/s.yaml"], {"authsurge.scenario.load_scenario": boom}),
    "analyze": (["analyze", "{tmp}/runs/r"], {"authsurge.analysis.analyze_run": boom}),
    "report": (["report", "{tmp}/runs/r"], {"authsurge.report.html_report.write_report": boom}),
    "report --summary": (
        ["report", "{tmp}/runs/r", "--summary"],
        {"authsurge.report.summary.write_summary": boom},
    ),
    "report --baseline": (
        ["report", "{tmp}/runs/r", "--baseline", "{tmp}/runs/base"],
        {"authsurge.report.html_report.write_report": boom},
    ),
    "compare": (
        ["compare", "{tmp}/runs/base", "{tmp}/runs/r"],
        {"authsurge.analysis.compare.compare_dirs": boom},
    ),
    "runs": (["runs", "--root", "{tmp}/runs"], {"authsurge.history.list_runs": boom}),
    "runs --trend": (
        ["runs", "--root", "{tmp}/runs", "--trend", "{tmp}/trend.png"],
        {
            "authsurge.history.list_runs": lambda *a, **k: [{"analysed": True}],
            "authsurge.history.format_table": lambda rows: "a table of runs",
            "authsurge.report.trend.write_trend": boom,
        },
    ),
    "demo": (
        ["demo", "--scenario", "{tmp}/s.yaml", "--out", "{tmp}/runs", "--no-progress"],
        {"authsurge.demo.run_demo": boom},
    ),
    "target serve": (
        ["target", "serve", "--data-dir", "{tmp}/target"],
        {"authsurge.target.process.start_target": boom},
    ),
    "target stop": (
        ["target", "stop", "--data-dir", "{tmp}/target"],
        {"authsurge.target.process.stop_target": boom},
    ),
    "target status": (
        ["target", "status", "--data-dir", "{tmp}/target"],
        {"authsurge.target.process.target_status": boom},
    ),
}

# commands whose run directory exists here: the traceback goes there instead
RUN_DIR_CASES = {
    "analyze": "runs/r",
    "report": "runs/r",
    "report --summary": "runs/r",
    "report --baseline": "runs/r",
    "compare": "runs/r",  # the candidate
}


@pytest.fixture
def temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's temp dir, redirected so the test can look into it."""
    path = tmp_path / "user-temp"
    path.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(path))
    # serve fills in the demo secrets (and says so on stderr) when they are not set
    monkeypatch.setenv(PASSWORD_ENV, "pw-never-shown")
    monkeypatch.setenv(CLIENT_SECRET_ENV, "secret-never-shown")
    return path


def patch_all(monkeypatch: pytest.MonkeyPatch, patches: dict[str, Callable[..., Any]]) -> None:
    for target, replacement in patches.items():
        module, _, attr = target.rpartition(".")
        monkeypatch.setattr(f"{module}.{attr}", replacement)


def argv_for(argv: list[str], tmp_path: Path) -> list[str]:
    return [a.replace("{tmp}", str(tmp_path)) for a in argv]


def crash_line(capsys: pytest.CaptureFixture[str], command: str) -> tuple[str, Path]:
    """The one stderr line of an internal error, and the log file it names."""
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    [line] = lines
    assert f"internal error in '{command}'" in line and FORCED in line, line
    match = LOG_PATH.search(line)
    assert match, line
    return line, Path(match["path"])


def assert_logged(log: Path) -> str:
    assert log.is_file()
    text = log.read_text()
    assert "Traceback (most recent call last)" in text
    assert f"RuntimeError: {FORCED}" in text
    return text


@pytest.mark.parametrize("name", list(CASES))
def test_an_internal_error_exits_3_with_one_line_and_the_traceback_in_the_temp_dir(
    name: str, tmp_path: Path, temp_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    argv, patches = CASES[name]
    patch_all(monkeypatch, patches)

    code = main(argv_for(argv, tmp_path))

    assert code == ExitStatus.INTERNAL_ERROR == 3
    command = "target " + argv[1] if argv[0] == "target" else argv[0]
    line, log = crash_line(capsys, command)
    assert line.startswith("authsurge: internal error in ")
    assert log.parent == temp_dir and log.name.startswith("authsurge-error-")
    assert_logged(log)


@pytest.mark.parametrize("name", list(RUN_DIR_CASES))
def test_an_internal_error_logs_its_traceback_into_the_run_directory_the_command_reads(
    name: str, tmp_path: Path, temp_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    for run_dir in ("runs/r", "runs/base"):
        (tmp_path / run_dir).mkdir(parents=True)
    argv, patches = CASES[name]
    patch_all(monkeypatch, patches)

    assert main(argv_for(argv, tmp_path)) == ExitStatus.INTERNAL_ERROR

    _, log = crash_line(capsys, argv[0])
    assert log == tmp_path / RUN_DIR_CASES[name] / crashlog.RUN_DIR_LOG
    assert_logged(log)
    assert list(temp_dir.iterdir()) == []


SCENARIO = """\
name: crash
target: {base_url: "http://127.0.0.1:9"}
journeys:
  web: {steps: [form_login, api]}
traffic:
  shape: {kind: steady, rate: 1}
run: {duration_s: 2}
"""


@contextlib.contextmanager
def fake_target(*args: Any, **kwargs: Any) -> Iterator[Any]:
    yield SimpleNamespace(base_url="http://127.0.0.1:9", pids=lambda: [])


@pytest.mark.parametrize("command", ["run", "demo"])
def test_a_run_that_crashes_after_making_its_directory_logs_the_traceback_into_it(
    command: str, tmp_path: Path, temp_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    # the real Run.prepare makes (and registers) the run directory; the run itself crashes
    (tmp_path / "s.yaml").write_text(SCENARIO)
    if command == "demo":  # the demo replays its trace, sized by a calibration (made up here)
        shipped = ROOT / "scenarios" / "demo_surge.yaml"
        trace = (ROOT / "scenarios" / "traces" / "demo_surge.csv").as_posix()
        (tmp_path / "s.yaml").write_text(shipped.read_text().replace("traces/demo_surge.csv", trace))
        monkeypatch.setattr("authsurge.calibrate.find_capacity",
                            lambda *a, **k: Calibration(5.0, [], True))
    patch_all(
        monkeypatch,
        {
            "authsurge.run.base.check_target": lambda *a, **k: None,
            "authsurge.run.base.scenario_target_pids": lambda *a, **k: [],
            "authsurge.run.local.LocalRun.drive": boom,
            "authsurge.target.running_target": fake_target,
        },
    )
    argv = (
        ["run", "{tmp}/s.yaml", "--out", "{tmp}/runs", "--no-progress"]
        if command == "run"
        else CASES["demo"][0]
    )

    assert main(argv_for(argv, tmp_path)) == ExitStatus.INTERNAL_ERROR

    line, log = crash_line(capsys, command)
    [run_dir] = (tmp_path / "runs").iterdir()
    assert log == run_dir / crashlog.RUN_DIR_LOG
    text = assert_logged(log)
    assert "pw-never-shown" not in line + text


@pytest.mark.parametrize("action", ["serve", "stop", "status"])
def test_the_target_clis_own_main_also_exits_3_with_one_line(
    action: str, tmp_path: Path, temp_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    argv, patches = CASES[f"target {action}"]
    patch_all(monkeypatch, patches)

    assert target_main(argv_for(argv[1:], tmp_path)) == ExitStatus.INTERNAL_ERROR

    _, log = crash_line(capsys, f"target {action}")
    assert log.parent == temp_dir
    assert_logged(log)


def test_the_worker_processs_own_main_also_exits_3_with_one_line(
    temp_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setattr("authsurge.run.worker.serve", boom)

    assert worker_main(["--master-port", "1"]) == ExitStatus.INTERNAL_ERROR

    line, log = crash_line(capsys, "worker")
    assert line.startswith("authsurge worker: internal error")
    assert_logged(log)


def test_a_library_calling_sys_exit_1_exits_3_not_1(
    tmp_path: Path, temp_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    # Locust's master does sys.exit(1) when its port is busy: 1 would read as a failed gate
    def exits(*args: Any, **kwargs: Any) -> Any:
        raise SystemExit(1)

    monkeypatch.setattr("authsurge.history.list_runs", exits)

    assert main(["runs", "--root", str(tmp_path)]) == ExitStatus.INTERNAL_ERROR
    err = capsys.readouterr().err
    assert err.startswith("authsurge: internal error in 'runs': SystemExit: 1 (full traceback: ")
    assert len(err.splitlines()) == 1


def test_bad_input_keeps_exit_2_and_writes_no_log(
    tmp_path: Path, temp_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    def bad(*args: Any, **kwargs: Any) -> Any:
        raise BadInput("no such scenario file")

    monkeypatch.setattr("authsurge.scenario.load_scenario", bad)

    assert main(["validate", str(tmp_path / "s.yaml")]) == ExitStatus.BAD_INPUT
    assert capsys.readouterr().err == "authsurge: error: no such scenario file\n"
    assert list(temp_dir.iterdir()) == []


def test_ctrl_c_keeps_exit_130(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr("authsurge.history.list_runs", interrupted)

    assert main(["runs", "--root", str(tmp_path)]) == ExitStatus.INTERRUPTED == 130
    assert capsys.readouterr().err == "authsurge: interrupted\n"


def test_a_usage_error_stays_argparses_exit_2(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["compare", "only-one-run-dir"])
    assert exc.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_a_multi_line_message_is_shown_on_one_line(
    tmp_path: Path, temp_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    def multi(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("first line\nsecond line")

    monkeypatch.setattr("authsurge.history.list_runs", multi)

    assert main(["runs", "--root", str(tmp_path)]) == ExitStatus.INTERNAL_ERROR
    [line] = capsys.readouterr().err.splitlines()
    assert "ValueError: first line second line (full traceback: " in line


def test_a_second_crash_in_the_same_run_directory_appends_to_its_log(tmp_path: Path) -> None:
    for message in ("first", "second"):
        try:
            raise RuntimeError(message)
        except RuntimeError as exc:
            log = crashlog.write_traceback(exc, "analyze", tmp_path)
    assert log == tmp_path / crashlog.RUN_DIR_LOG
    text = log.read_text()
    assert text.count("internal error in 'analyze'") == 2
    assert "RuntimeError: first" in text and "RuntimeError: second" in text


def test_the_log_falls_back_to_the_temp_dir_when_the_run_directory_is_unusable(
    tmp_path: Path, temp_dir: Path
) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    log = crashlog.write_traceback(RuntimeError(FORCED), "analyze", not_a_dir)
    assert log is not None and log.parent == temp_dir


def test_when_no_log_can_be_written_the_line_says_so_and_the_exit_is_still_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no" / "such" / "dir"))
    monkeypatch.setattr("authsurge.history.list_runs", boom)

    assert main(["runs", "--root", str(tmp_path)]) == ExitStatus.INTERNAL_ERROR
    [line] = capsys.readouterr().err.splitlines()
    assert FORCED in line and "traceback could not be written" in line


@pytest.mark.parametrize(
    ("running", "healthy", "code"),
    [(True, True, ExitStatus.SUCCESS), (True, False, ExitStatus.BAD_INPUT), (False, False, 2)],
)
def test_target_status_exits_0_when_it_answers_and_2_not_1_when_not(
    running: bool, healthy: bool, code: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    status = TargetStatus(running=running, data_dir=tmp_path, healthy=healthy, users=2)
    monkeypatch.setattr("authsurge.target.process.target_status", lambda data_dir: status)

    assert main(["target", "status", "--data-dir", str(tmp_path)]) == code
