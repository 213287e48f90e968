"""The signed-in population at run time: people who were signed in before the surge and
use the API through it (the scenario's `population:`, authsurge.scenario.population).

Each person is one greenlet, for the whole run:
1. warm-up: at their turn before the run's clock starts (`t0`), sign in through the
   `sign_in` journey with a browser they keep (records of cohort WARMUP, named
   "warmup:<step>" of journey "warmup:<sign_in>", which the analysis keeps out of the
   capacity curves); from then on their records are cohort POPULATION, named
   "population:<step>" of journey "population:<sign_in>";
2. then, from t0 to the deadline, an API call at exponential gaps (Poisson, `api_rate` a
   second per person), with cohort POPULATION ("population:api.call");
3. before a call: an access token about to expire is refreshed ("population:token.refresh");
   a session older than `session_lifetime_s` signs in again;
4. a 401 on a call makes them sign in again (`on_401: relogin`) or leave (`give_up`); a
   failed refresh signs in again. A sign-in that fails is retried with the scenario's
   `behaviour.retry` think times, up to its `max_attempts`, then they leave.

A surge person who joins (`join_share`) starts at 2, with the browser and account of
their journey. Whatever ends a person's life, their browser is closed and their account
given back (`_guarded`, or `stop` for one killed before their greenlet ran).

What happens to them is written as event rows (records.EVENTS): signed_in, relogin (with
why), refreshed, gave_up (left while signed in), sign_in_failed (retries used up); the
analysis counts the signed-in people per window from them.
Every loop ends at the deadline or when the run stops.
"""

from __future__ import annotations

import gevent
from gevent.pool import Group

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from authsurge.journeys import (
    ApiCalls,
    Journey,
    JourneyContext,
    JourneyState,
    OidcLogin,
    Refresh,
    ScenarioSecrets,
    StepFailed,
)
from authsurge.journeys.journey import open_person
from authsurge.rundir import records as record
from authsurge.scenario import Scenario
from authsurge.scenario.population import PopulationConfig
from authsurge.worker_context import WorkerContext

log = logging.getLogger(__name__)

# refresh this long before the access token expires: a call never goes out on a token
# that dies in flight (a tenth of the lifetime, at most 30 s)
REFRESH_EARLY_SHARE, REFRESH_EARLY_MAX_S = 0.1, 30.0


@dataclass
class PopulationSteps:
    """What a signed-in person does: sign in, call the API, refresh their token."""

    sign_in: Journey
    api: ApiCalls
    refresh: Refresh | None  # None: the sign-in gives no refresh token (a session cookie)


def population_steps(
    scenario: Scenario, secrets: ScenarioSecrets, journeys: dict[str, Journey]
) -> PopulationSteps:
    """The population's steps, built on the scenario's journeys (their discovery cache)."""
    config = scenario.population
    assert config is not None
    sign_in = journeys[config.sign_in]
    flows = scenario.flows
    api = ApiCalls(flows.api.model_copy(update={"calls": 1}))  # one call per Poisson event
    provider = next((s.provider for s in sign_in.steps if isinstance(s, OidcLogin)), None)
    refresh = None
    if provider is not None and flows.oidc is not None:
        client = flows.oidc.client
        tokens = flows.tokens.model_copy(update={"refreshes": 1})
        refresh = Refresh(provider, client, secrets.client_secret(client), tokens)
    return PopulationSteps(sign_in, api, refresh)


@dataclass
class Counts:
    """This worker's population, for its summary in meta.json."""

    size: int = 0
    signed_in_at_start: int = 0  # warm-up sign-ins done by t0
    warmup_failures: int = 0
    joined: int = 0  # surge people who signed in and joined (population.join_share)
    relogins: int = 0
    refreshes: int = 0
    gave_up: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


class Population:
    """This worker's share of the signed-in population (module docstring)."""

    def __init__(
        self,
        *,
        context: WorkerContext,
        config: PopulationConfig,
        steps: PopulationSteps,
        worker_index: int,
        worker_count: int,
        seed: int,
    ) -> None:
        self.ctx = context
        self.config = config
        self.steps = steps
        self.worker_index = worker_index
        self.worker_count = worker_count
        self.rng = random.Random(seed * 1_000_003 + worker_index + 7)
        self.people = Group()
        self.counts = Counts()
        self.stopping = False
        self._seq = 0
        self._issued: dict[str, float] = {}  # person -> when their access token was issued
        self._current: dict[str, JourneyState] = {}  # person -> the browser they now use
        self._held: dict[str, Any] = {}  # person -> their account (None: none needed)

    def start(self) -> None:
        """Spawn this worker's people: the global person g signs in at t0 - warm-up + g/rate,
        so the workers interleave and the warm-up keeps its rate over all of them."""
        n, w = self.worker_count, self.worker_index
        start = self.ctx.t0 - self.config.warmup_s
        for g in range(w, self.config.size, n):
            self.counts.size += 1
            self.people.spawn(
                self._live, f"{self.ctx.worker}-pop{g + 1}", start + g / self.config.warmup.rate
            )

    def joins(self) -> bool:
        """Does the next surge sign-in stay and join (population.join_share)? A joiner keeps
        their account, so nobody joins while more than half of this worker's accounts are
        in use: the rest stay for the surge's arrivals."""
        share = self.config.join_share
        if share <= 0 or self.stopping:
            return False
        pool = self.ctx.accounts.of(self.steps.sign_in.name) if self.ctx.accounts else None
        if pool is not None and pool.in_use >= pool.size // 2:
            return False
        return self.rng.random() < share

    def adopt(self, person: str, account: Any, state: JourneyState) -> bool:
        """A surge person who signed in joins: they use the API until the run ends, with
        their browser and account (released when they leave). False when the run is
        ending: the caller closes the browser and releases the account."""
        if self.stopping or time.time() >= self.ctx.deadline:
            return False
        self.counts.joined += 1
        self._became_member(person, state)
        # held from now on: a stop before the greenlet runs must still let go of them
        self._current[person], self._held[person] = state, account
        self.people.spawn(self._guarded, person, self._api_loop, person, state)
        return True

    def stop(self, timeout: float = 2.0) -> None:
        self.stopping = True
        self.people.kill(block=True, timeout=timeout)
        for person in list(self._held):  # people killed before their greenlet ran
            self._let_go(person)

    # -- one person ------------------------------------------------------------------------
    def _live(self, person: str, at: float) -> None:
        """A warm-up person: an account, their turn to sign in, then the API."""
        account = None
        if self.steps.sign_in.needs_account and self.ctx.accounts is not None:
            account = self.ctx.accounts.acquire(self.steps.sign_in.name)
            if account is None:
                log.warning("population: no free account for %s (raise credentials.count)", person)
                return
        self._held[person] = account
        self._guarded(person, self._warm_up, person, at)

    def _warm_up(self, person: str, at: float) -> None:
        self._sleep_until(at)
        state = self._sign_in(person, self._held[person], first=True)
        if state is not None:
            self._api_loop(person, state)

    def _guarded(self, person: str, body: Callable[..., None], *args: Any) -> None:
        """Run a person's life; whatever ends it, let go of their browser and account."""
        try:
            body(*args)
        except Exception:  # a bug must not end the run: the person leaves, and it is logged
            log.exception("population: %s stopped on an error", person)
        finally:
            self._let_go(person)

    def _let_go(self, person: str) -> None:
        """Close the person's browser and give their account back (once)."""
        state = self._current.pop(person, None)
        if state is not None:
            state.http.close()
        account = self._held.pop(person, None)
        if account is not None and self.ctx.accounts is not None:
            self.ctx.accounts.release(account)

    def _api_loop(self, person: str, state: JourneyState) -> None:
        """Call the API until the run ends, refreshing and signing in again as needed."""
        self._current[person] = state
        signed_at = time.time()
        lifetime = self.config.session_lifetime_s
        at = max(signed_at, self.ctx.t0)
        while True:
            # planned times, not gaps after each answer: a slow target does not thin the
            # calls (a call planned while the last is in flight goes as soon as it is done)
            at += self.rng.expovariate(self.config.api_rate)
            if at >= self.ctx.deadline or not self._sleep_until(at):
                return
            why = None
            if lifetime is not None and time.time() - signed_at >= lifetime:
                why = "session lifetime over (population.session_lifetime_s)"
            elif self._token_due(person, state) and not self._refresh(person, state):
                why = "token refresh failed"
            if why is None:
                try:
                    self.steps.api(state)
                    continue
                except StepFailed as failed:
                    if failed.status != 401:
                        continue  # recorded; the person keeps using the app
                    if self.config.on_401 == "give_up":
                        self._event(record.GAVE_UP, person, "401 on the API (on_401: give_up)")
                        return
                    why = "401 on the API"
            self._event(record.RELOGIN, person, why)
            self.counts.relogins += 1
            state.http.close()  # a fresh browser for the new sign-in
            fresh = self._sign_in(person, self._held.get(person), first=False)
            if fresh is None:
                return
            state, signed_at = fresh, time.time()
            at = max(signed_at, self.ctx.t0)
            self._current[person] = state

    def _sign_in(self, person: str, account: Any, *, first: bool) -> JourneyState | None:
        """Sign in with a fresh browser, retried with behaviour.retry's think times; the
        signed-in person, or None when they gave up (or the run ended)."""
        attempt = 1
        while not self.stopping:
            cohort = record.WARMUP if time.time() < self.ctx.t0 else record.POPULATION
            self._seq += 1
            ctx = JourneyContext(
                environment=self.ctx.environment,
                base_url=self.ctx.base_url,
                account=account,
                journey=f"{cohort}:{self.steps.sign_in.name}",  # apart from the surge's
                journey_id=f"{self.ctx.worker}-pj{self._seq}",
                person_id=person,
                attempt=attempt,
                t_intended=time.time(),
                worker=self.ctx.worker,
                cohort=cohort,
            )
            state = open_person(ctx, self.steps.sign_in.http)
            try:
                self.steps.sign_in.run_steps(state)
            except BaseException as exc:
                state.http.close()
                if not isinstance(exc, StepFailed):
                    raise  # the run stopping (GreenletExit), or a bug (_guarded logs it)
                failed = exc
                if first and cohort == record.WARMUP:
                    self.counts.warmup_failures += 1
                if not self.ctx.retry.can_retry(attempt):
                    self._event(record.SIGN_IN_FAILED, person, f"sign-in failed {attempt} times")
                    return None
                wait = self.ctx.retry.think_s(attempt, failed.retry_after_s)
                if time.time() + wait >= self.ctx.deadline or not self._sleep_until(
                    time.time() + wait
                ):
                    return None
                attempt += 1
                continue
            if first and time.time() < self.ctx.t0:
                self.counts.signed_in_at_start += 1
            self._became_member(person, state)
            return state
        return None

    def _became_member(self, person: str, state: JourneyState) -> None:
        """Signed in: from now on the person's requests are the population's."""
        self._expiry(person, state)
        self._event(record.SIGNED_IN, person, "")
        reporter = state.http.reporter
        reporter.base["cohort"] = record.POPULATION
        reporter.base["journey"] = f"{record.POPULATION}:{state.ctx.journey.split(':')[-1]}"
        reporter.prefix = record.POPULATION + ":"

    def _token_due(self, person: str, state: JourneyState) -> bool:
        expires = state.token_expires_at
        if expires is None or state.refresh_token is None or self.steps.refresh is None:
            return False
        lifetime = max(expires - self._issued.get(person, expires), 0.0)
        early = min(REFRESH_EARLY_SHARE * lifetime, REFRESH_EARLY_MAX_S)
        return time.time() >= expires - early

    def _refresh(self, person: str, state: JourneyState) -> bool:
        assert self.steps.refresh is not None
        try:
            self.steps.refresh(state)
        except StepFailed:
            return False
        self._expiry(person, state)
        self._event(record.REFRESHED, person, "")
        self.counts.refreshes += 1
        return True

    def _expiry(self, person: str, state: JourneyState) -> None:
        """Note when the token was issued; a configured token lifetime overrides the token
        response's expires_in."""
        self._issued[person] = time.time()
        if self.config.token_lifetime_s is not None and state.access_token is not None:
            state.token_expires_at = time.time() + self.config.token_lifetime_s

    def _event(self, what: str, person: str, reason: str) -> None:
        if what in (record.GAVE_UP, record.SIGN_IN_FAILED):
            self.counts.gave_up += 1
        self.ctx.recorder.event(what=what, person_id=person, t=time.time(), reason=reason)

    def _sleep_until(self, t: float) -> bool:
        """Sleep until t; False when the run stopped meanwhile."""
        wait = t - time.time()
        if wait > 0:
            gevent.sleep(wait)
        return not self.stopping
