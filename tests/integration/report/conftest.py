"""Fixtures for the report tests in a real browser: headless Chromium, and the folder its
screenshots go to (the planted runs they render: tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from authsurge.report.chromium import find_chromium
from tests.support.debian import installed

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"


@pytest.fixture(scope="session")
def chromium() -> str:
    """A Chromium binary; installed with apt-get when missing (root only), else the test skips."""
    return installed("chromium", find_chromium)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
