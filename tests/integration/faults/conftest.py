"""Fault injectors for one test, always stopped."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.faults.proxy import FaultProxy


@pytest.fixture()
def fault_proxy() -> Iterator[Callable[..., FaultProxy]]:
    started: list[FaultProxy] = []

    def start(*args: Any, **kwargs: Any) -> FaultProxy:
        proxy = FaultProxy(*args, **kwargs).start()
        started.append(proxy)
        return proxy

    try:
        yield start
    finally:
        for proxy in started:
            proxy.stop()
