"""What every person one load-generator process drives shares: the Locust environment
(whose request event records them), the accounts, the recorder, how people retry, the
target, the run's clock and the worker's name. The open-model driver (surge arrivals)
and the signed-in population (authsurge.population) both run on one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from authsurge.journeys import AccountPools
from authsurge.recorder import Recorder
from authsurge.traffic.behaviour import RetryPolicy


@dataclass(frozen=True)
class WorkerContext:
    environment: Any  # locust.env.Environment
    accounts: AccountPools | None  # None: no journey needs an account
    recorder: Recorder
    retry: RetryPolicy
    base_url: str
    t0: float  # epoch s the run's clock starts
    deadline: float  # epoch s no new request starts after
    worker: str
