"""--device-code-lifetime, --device-interval, --device-slow-down: checked, passed on as
environment, and nonsense refused by `target serve` with exit 2 before anything starts."""

from __future__ import annotations

import pytest

from authsurge.errors import BadInput, ExitStatus
from authsurge.target.cli import main as target_cli
from authsurge.target.options import TargetOptions, server_env


@pytest.mark.parametrize(("options", "says"), [
    ({"device_code_lifetime_s": 0}, "--device-code-lifetime must be 1..86400"),
    ({"device_code_lifetime_s": 86401}, "--device-code-lifetime must be 1..86400"),
    ({"device_interval_s": 0}, "--device-interval must be 1..3600"),
    ({"device_interval_s": -5}, "--device-interval must be 1..3600"),
])
def test_device_lifetimes_and_intervals_out_of_range_are_refused_by_flag(options, says):
    with pytest.raises(BadInput, match=says):
        TargetOptions(**options).checked()


def test_device_options_reach_the_server_as_environment(tmp_path):
    env = server_env(TargetOptions(device_code_lifetime_s=2, device_interval_s=1,
                                   device_slow_down=True).checked(), tmp_path, 8000)
    assert env["AUTHSURGE_TARGET_DEVICE_CODE_LIFETIME_S"] == "2"
    assert env["AUTHSURGE_TARGET_DEVICE_INTERVAL_S"] == "1"
    assert env["AUTHSURGE_TARGET_DEVICE_SLOW_DOWN"] == "1"
    default = server_env(TargetOptions().checked(), tmp_path, 8000)
    # oauthlib's and DOT's own defaults; slow_down off, as in DOT
    assert default["AUTHSURGE_TARGET_DEVICE_CODE_LIFETIME_S"] == "1800"
    assert default["AUTHSURGE_TARGET_DEVICE_INTERVAL_S"] == "5"
    assert "AUTHSURGE_TARGET_DEVICE_SLOW_DOWN" not in default


@pytest.mark.parametrize("argv", [
    ["--device-interval", "0"],
    ["--device-code-lifetime", "0"],
    ["--device-code-lifetime", "100000"],
])
def test_serve_refuses_nonsense_device_options_with_exit_2(argv, tmp_path, capsys):
    assert target_cli(["serve", "--data-dir", str(tmp_path / "t"), *argv]) == ExitStatus.BAD_INPUT
    assert "--device-" in capsys.readouterr().err
    assert not (tmp_path / "t").exists()  # nothing was started or created


def test_serve_takes_the_device_flags():
    from argparse import ArgumentParser

    from authsurge.target.cli import add_actions, options_from_args

    parser = ArgumentParser()
    add_actions(parser.add_subparsers(dest="target_command"))
    opts = options_from_args(parser.parse_args(
        ["serve", "--device-code-lifetime", "60", "--device-interval", "2", "--device-slow-down"]))
    assert (opts.device_code_lifetime_s, opts.device_interval_s, opts.device_slow_down) == (60, 2, True)
    defaults = options_from_args(parser.parse_args(["serve"]))
    assert (defaults.device_code_lifetime_s, defaults.device_interval_s, defaults.device_slow_down) == (
        1800, 5, False)
