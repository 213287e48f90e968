"""The open-model driver: starts each person's journey at its planned time, whatever the target does.

One driver runs per worker process as a Locust user, taking its slice of the plan.
Arrivals never wait for earlier journeys (an open workload): when `max_concurrency`
journeys are in flight a new arrival is *dropped* and recorded, never silently skipped.
Latency of a journey is measured from its intended start, so a late generator or a
queueing target cannot hide (coordinated omission).
"""

from __future__ import annotations

import gevent
from gevent.pool import Group

import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any

from authsurge.journeys import Journey, JourneyContext, JourneyResult
from authsurge.population import Population
from authsurge.traffic.behaviour import IMPATIENT, RetryPolicy
from authsurge.traffic.schedule import Plan
from authsurge.worker_context import WorkerContext

log = logging.getLogger(__name__)

LATE_S = 1.0  # an arrival started this much after its planned time counts as late
WINDOW_S = 10.0  # shortfall is judged per window of this length


@dataclass
class Shortfall:
    """Per-window bookkeeping of planned vs started arrivals (for warnings and meta.json)."""

    planned: dict[int, int] = field(default_factory=dict)
    started: dict[int, int] = field(default_factory=dict)
    dropped: dict[int, int] = field(default_factory=dict)
    late: dict[int, int] = field(default_factory=dict)
    max_lag_s: dict[int, float] = field(default_factory=dict)

    def window(self, w: int, t0: float) -> dict[str, Any] | None:
        """Window w when fewer than 95% of its planned first attempts started on time."""
        planned = self.planned.get(w, 0)
        on_time = self.started.get(w, 0) - self.late.get(w, 0)
        if not planned or on_time >= 0.95 * planned:
            return None
        return {
            "start": t0 + w * WINDOW_S,
            "end": t0 + (w + 1) * WINDOW_S,
            "planned": planned,
            "started": self.started.get(w, 0),
            "dropped": self.dropped.get(w, 0),
            "late": self.late.get(w, 0),
            "max_lag_s": round(self.max_lag_s.get(w, 0.0), 3),
        }

    def windows(self, t0: float) -> list[dict[str, Any]]:
        """Every short window, in order (for meta.json)."""
        return [x for w in sorted(self.planned) if (x := self.window(w, t0)) is not None]


class OpenModelDriver:
    def __init__(
        self,
        *,
        context: WorkerContext,
        plan: Plan,
        journeys: dict[str, Journey],
        max_concurrency: int,
        max_journeys: int,
        population: Population | None = None,
    ) -> None:
        self.ctx = context
        self.plan = plan
        self.journeys = journeys
        self.max_concurrency = max_concurrency
        self.max_journeys = max_journeys
        self.population = population  # where signed-in people who stay go (join_share)
        self.in_flight = Group()
        self.thinking = Group()  # people waiting to retry
        self.started = 0
        self.persons = 0
        self.shortfall = Shortfall()
        self.stopping = False
        self._seq = 0

    # -- the schedule ---------------------------------------------------------------------
    def run(self) -> None:
        """Start every planned arrival at its time; return when the plan or the deadline ends."""
        window = None  # the window being filled; judged, and said if short, once it is over
        for arrival in self.plan:
            if self.stopping:
                break
            intended = self.ctx.t0 + arrival.t
            if intended >= self.ctx.deadline:
                break
            wait = intended - time.time()
            if wait > 0:
                gevent.sleep(wait)
            if self.stopping:
                break
            w = int(arrival.t // WINDOW_S)
            if w != window:
                self._say_if_short(window)
                window = w
            self.shortfall.planned[w] = self.shortfall.planned.get(w, 0) + 1
            self.persons += 1
            person = f"{self.ctx.worker}-p{self.persons}"
            if self._start(arrival.journey, person, 1, intended):
                self.shortfall.started[w] = self.shortfall.started.get(w, 0) + 1
                lag = time.time() - intended
                if lag > LATE_S:
                    self.shortfall.late[w] = self.shortfall.late.get(w, 0) + 1
                self.shortfall.max_lag_s[w] = max(self.shortfall.max_lag_s.get(w, 0.0), lag)
            else:
                self.shortfall.dropped[w] = self.shortfall.dropped.get(w, 0) + 1
        self._say_if_short(window)

    def _say_if_short(self, w: int | None) -> None:
        """Warn while the run goes on, not only in meta.json at the end."""
        if w is None or (short := self.shortfall.window(w, self.ctx.t0)) is None:
            return
        log.warning(
            "arrivals fell short of the schedule in %.0f-%.0f s: %d of %d planned started on "
            "time (%d dropped: the concurrency cap, or no free account; %d late by more than "
            "%.0f s): the "
            "load offered in this window is below the plan",
            w * WINDOW_S,
            (w + 1) * WINDOW_S,
            short["started"] - short["late"],
            short["planned"],
            short["dropped"],
            short["late"],
            LATE_S,
        )

    def drain(self, timeout: float) -> None:
        """Wait up to `timeout` s for journeys in flight; then stop them (their rows are kept)."""
        self.stopping = True
        self.thinking.kill(block=False)
        self.in_flight.join(timeout=timeout)
        self.in_flight.kill(block=True, timeout=2)

    # -- one person, one attempt ---------------------------------------------------------
    def _start(
        self,
        journey_name: str,
        person: str,
        attempt: int,
        intended: float,
        retrying: str | None = None,
    ) -> bool:
        """retrying: how this person retries (RetryPolicy.decide, at their first failure)."""
        if self.started >= self.max_journeys:
            self.stopping = True
            log.warning(
                "run.max_journeys reached on worker %s: no new journeys start", self.ctx.worker
            )
            return False

        def drop(reason: str) -> bool:
            self.ctx.recorder.drop(
                journey=journey_name,
                person_id=person,
                attempt=attempt,
                t_intended=intended,
                reason=reason,
            )
            return False

        if len(self.in_flight) >= self.max_concurrency:
            return drop("concurrency cap reached (traffic.max_concurrency)")
        journey = self.journeys[journey_name]
        account = None
        if journey.needs_account and self.ctx.accounts is not None:
            account = self.ctx.accounts.acquire(journey_name)
            if account is None:
                return drop("no free account (raise credentials.count, or the journey's accounts)")
        self.started += 1
        self._seq += 1
        self.in_flight.spawn(
            self._attempt,
            journey,
            account,
            person,
            attempt,
            intended,
            f"{self.ctx.worker}-j{self._seq}",
            retrying,
        )
        return True

    def _attempt(
        self,
        journey: Journey,
        account: Any,
        person: str,
        attempt: int,
        intended: float,
        journey_id: str,
        retrying: str | None = None,
    ) -> None:
        t_start = time.time()
        ctx = JourneyContext(
            environment=self.ctx.environment,
            base_url=self.ctx.base_url,
            account=account,
            journey=journey.name,
            journey_id=journey_id,
            person_id=person,
            attempt=attempt,
            t_intended=intended,
            worker=self.ctx.worker,
        )
        result: JourneyResult | None = None
        stays = self.population is not None and journey.signs_in and self.population.joins()
        try:
            result = journey.run(ctx, stay=stays)
        except gevent.GreenletExit:
            result = JourneyResult(
                ok=False, outcome="interrupted", step=None, reason="stopped at the end of the run"
            )
            raise
        except Exception as exc:  # a bug in a journey must not end the run; it is recorded
            log.exception("journey %s raised", journey.name)
            result = JourneyResult(
                ok=False,
                outcome="harness_error",
                step=None,
                reason=f"harness error: {type(exc).__name__}",
            )
        finally:
            adopted = False
            if result is not None and result.state is not None:
                assert self.population is not None
                adopted = self.population.adopt(person, account, result.state)
                if not adopted:
                    result.state.http.close()
            if account is not None and self.ctx.accounts is not None and not adopted:
                self.ctx.accounts.release(account)  # an adopted person keeps theirs
            if result is not None:
                self.ctx.recorder.journey(
                    journey=journey.name,
                    journey_id=journey_id,
                    person_id=person,
                    attempt=attempt,
                    t_intended=intended,
                    t_start=t_start,
                    t_end=time.time(),
                    ok=result.ok,
                    outcome=result.outcome,
                    step=result.step,
                    reason=result.reason,
                )
        if result.ok or self.stopping or not self.ctx.retry.can_retry(attempt):
            return
        kind = self.ctx.retry.decide() if attempt == 1 else retrying  # decided once per person
        if kind is not None:
            self.thinking.spawn(
                self._retry_later, journey.name, person, attempt + 1, result.retry_after_s, kind
            )

    def _retry_later(
        self,
        journey_name: str,
        person: str,
        attempt: int,
        retry_after_s: float | None,
        kind: str,
    ) -> None:
        if kind == IMPATIENT:
            wait = self.ctx.retry.impatient_s()  # neither think time nor Retry-After
        else:
            wait = self.ctx.retry.think_s(attempt - 1, retry_after_s)
        gevent.sleep(wait)
        intended = time.time()
        if not self.stopping and intended < self.ctx.deadline:
            self._start(journey_name, person, attempt, intended, kind)


def retry_policy(config: Any, seed: int, worker_index: int) -> RetryPolicy:
    return RetryPolicy(config, random.Random(seed * 1_000_003 + worker_index))
