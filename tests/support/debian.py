"""Debian packages the tests need, installed with apt-get when missing (root only)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable

import pytest


def installed(package: str, found: Callable[[], str | None]) -> str:
    """`found()` (a binary's path) after installing `package` with apt-get when it gives
    None; the test skips only where nothing can be installed (not root, no apt-get)."""
    path = found()
    if path:
        return path
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.skip(f"{package} is not installed and cannot be installed here "
                    f"(needs root and apt-get: apt-get install {package})")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "install", "-y", package], ["apt-get", "update"],
                ["apt-get", "install", "-y", package]):
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env,
                                  check=False)
        except subprocess.TimeoutExpired:
            pytest.skip(f"could not install {package}: {' '.join(cmd)} timed out")
        if cmd[1] == "install" and proc.returncode == 0:
            break
        if cmd[1] == "update" and proc.returncode != 0:
            tail = " ".join(proc.stderr.strip().splitlines()[-2:])
            pytest.skip(f"could not install {package}: apt-get update failed: {tail}")
    path = found()
    if not path:
        pytest.fail(f"apt-get installed {package} but its binary is not there")
    return path
