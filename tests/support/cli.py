"""The command line in-process, for the CLI tests: a good scenario, a file, a closed port."""

from __future__ import annotations

import socket
from pathlib import Path

from authsurge.cli import main

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
