"""The `real_runs` fixture: three real runs against capacity-capped targets, made once per
session (what they are: tests/support/real_runs.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.real_runs import RealRuns, make_real_runs


@pytest.fixture(scope="session")
def real_runs(target, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealRuns]:  # noqa: ANN001
    yield make_real_runs(tmp_path_factory.mktemp("real-runs"), target.data_dir)
