"""Bad input gets one clear line and exit code 2, never a traceback; nothing is run."""

from __future__ import annotations

from authsurge.errors import ExitStatus
from tests.support.cli import GOOD, closed_port, run_cli, write


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
