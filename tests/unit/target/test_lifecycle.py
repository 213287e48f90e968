"""Starting the target: clear errors before anything starts (starting, reusing and stopping
it for real: tests/integration/target/test_lifecycle.py)."""

from __future__ import annotations

import socket

import pytest

from authsurge.errors import BadInput
from authsurge.target import TargetOptions, start_target


def test_port_already_in_use_is_bad_input_naming_the_port(target_env, tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(BadInput, match=rf"port {port} .*already in use"):
            start_target(TargetOptions(port=port, data_dir=tmp_path))


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "example.com"])
def test_non_loopback_host_is_refused(target_env, tmp_path, host):
    with pytest.raises(BadInput, match="loopback"):
        start_target(TargetOptions(host=host, port=0, data_dir=tmp_path))


def test_missing_password_variable_is_bad_input(target_env, tmp_path, monkeypatch):
    monkeypatch.delenv("AUTHSURGE_PASSWORD")
    with pytest.raises(BadInput, match="AUTHSURGE_PASSWORD"):
        start_target(TargetOptions(port=0, data_dir=tmp_path))
