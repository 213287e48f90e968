"""Fixtures for journey tests (helpers in helpers.py)."""

from __future__ import annotations

import pytest

from tests.support.journeys import Recorded, new_recorded


@pytest.fixture()
def recorded() -> Recorded:
    return new_recorded()
