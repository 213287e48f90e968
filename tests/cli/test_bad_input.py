"""Bad input gets one clear line and exit code 2, never a traceback; nothing is run."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from authsurge.cli import main
from authsurge.errors import ExitStatus

GOOD = """\
name: t
target: {base_url: "http://127.0.0.1:PORT"}
journeys:
  web: {steps: [form_login, api, form_logout]}
traffic:
  shape: {kind: steady, rate: 1}
run: {duration_s: 2}
"""


def closed_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def run_cli(args: list[str], capsys) -> tuple[int, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_missing_scenario_file(tmp_path, capsys):
    code, out = run_cli(["validate", str(tmp_path / "nope.yaml")], capsys)
    assert code == ExitStatus.BAD_INPUT
    assert "no such scenario file" in out and "Traceback" not in out


def test_yaml_syntax_error_names_the_line(tmp_path, capsys):
    path = write(tmp_path, "name: t\njourneys: {web: [\n")
    code, out = run_cli(["validate", str(path)], capsys)
    assert code == 2 and f"{path}:3" in out and "YAML syntax error" in out


def test_unknown_key_suggests_the_right_one(tmp_path, capsys):
    path = write(tmp_path, GOOD.replace("duration_s", "duraton_s"))
    code, out = run_cli(["validate", str(path)], capsys)
    assert code == 2 and "run.duraton_s" in out and "did you mean 'duration_s'" in out


def test_unreadable_scenario_file(tmp_path, capsys):
    folder = tmp_path / "a-folder.yaml"
    folder.mkdir()  # unreadable as a file, even for root
    code, out = run_cli(["validate", str(folder)], capsys)
    assert code == 2 and "cannot read scenario file" in out


def test_valid_scenario_validates_with_a_summary(tmp_path, capsys):
    path = write(tmp_path, GOOD.replace("PORT", "8000"))
    code, out = run_cli(["validate", str(path)], capsys)
    assert code == 0 and "ok" in out and "arrivals" in out


def test_unreachable_target_says_which_url_and_runs_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("AUTHSURGE_PASSWORD", "pw-for-test")
    port = closed_port()
    path = write(tmp_path, GOOD.replace("PORT", str(port)))
    out_dir = tmp_path / "runs"
    code, out = run_cli(["run", str(path), "--out", str(out_dir), "--no-progress"], capsys)
    assert code == 2
    assert f"http://127.0.0.1:{port}" in out and "nothing was run" in out
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_missing_password_variable_stops_before_the_run(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("AUTHSURGE_PASSWORD", raising=False)
    path = write(tmp_path, GOOD.replace("PORT", str(closed_port())))
    code, out = run_cli(["run", str(path), "--out", str(tmp_path / "runs"), "--no-progress"], capsys)
    assert code == 2 and "AUTHSURGE_PASSWORD" in out


def test_non_loopback_target_override_is_refused(tmp_path, capsys):
    path = write(tmp_path, GOOD.replace("PORT", "8000"))
    code, out = run_cli(["run", str(path), "--target", "http://idp.example", "--no-progress"], capsys)
    assert code == 2 and "allowed_hosts" in out


def test_bad_set_override(tmp_path, capsys):
    path = write(tmp_path, GOOD.replace("PORT", "8000"))
    code, out = run_cli(["validate", str(path), "--set", "novalue"], capsys)
    assert code == 2 and "--set" in out


def test_analyze_of_a_missing_run_directory(tmp_path, capsys):
    code, out = run_cli(["analyze", str(tmp_path / "no-such-run")], capsys)
    assert code == 2 and "Traceback" not in out


def test_usage_error_exits_2_with_argparse_message():
    proc = subprocess.run([sys.executable, "-m", "authsurge", "run"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "usage:" in proc.stderr and "Traceback" not in proc.stderr


def test_help_lists_the_commands_and_exit_codes():
    proc = subprocess.run([sys.executable, "-m", "authsurge", "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    for word in ("run", "validate", "analyze", "runs", "target", "demo", "exit codes"):
        assert word in proc.stdout
