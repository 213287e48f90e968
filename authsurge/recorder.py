"""Turns Locust request events and journey outcomes into rows of the requests table."""

from __future__ import annotations

import math
from typing import Any

from authsurge.rundir import records as record
from authsurge.rundir.records import StreamTable


def classify_exception(exc: BaseException | None, status: int) -> str:
    """Outcome class for a request reported without one (e.g. from a user's own locustfile)."""
    if exc is None:
        return record.OK
    if 400 <= status < 500:
        return record.HTTP_4XX
    if status >= 500:
        return record.HTTP_5XX
    name = type(exc).__name__.lower()
    text = str(exc).lower()
    if "timeout" in name or "timed out" in text or "timeout" in text:
        return record.TIMEOUT
    if status == 0:
        return record.CONNECTION
    return record.INVALID_RESPONSE


class Recorder:
    """A listener on `events.request` plus journey/drop rows, writing to one StreamTable."""

    def __init__(self, table: StreamTable, worker: str) -> None:
        self.table = table
        self.worker = worker
        self.requests = 0
        self.journeys = 0
        self.journeys_ok = 0
        self.dropped = 0
        self._attached_to: Any = None  # the Events this recorder listens on

    def attach(self, events: Any) -> None:
        events.request.add_listener(self.on_request)
        self._attached_to = events

    def detach(self) -> None:
        """Stop listening, if attached (a run detaches what it attached: nothing outlives it)."""
        events, self._attached_to = self._attached_to, None
        if events is not None:
            events.request.remove_listener(self.on_request)

    def on_request(
        self,
        request_type: str = "",
        name: str = "",
        response_time: float = math.nan,
        response_length: int = 0,
        response: Any = None,
        context: dict[str, Any] | None = None,
        exception: BaseException | None = None,
        start_time: float | None = None,
        **_: Any,
    ) -> None:
        # The hot path: one call per request. The row is built straight in REQUEST_SCHEMA
        # order (see _REQUEST_ORDER), with each column's default where a value is missing.
        ctx = context or _NO_CONTEXT
        get = ctx.get
        status = get("status")
        if status is None:
            status = int(getattr(response, "status_code", 0) or 0)
        t_intended, attempt = get("t_intended"), get("attempt")
        self.table.append_values(
            (
                record.KIND_REQUEST,
                _NAN if t_intended is None else t_intended,
                _NAN if start_time is None else start_time,
                name or "",
                get("journey") or "",
                get("journey_id") or "",
                get("person_id") or "",
                1 if attempt is None else attempt,
                request_type or "",
                status,
                get("outcome") or classify_exception(exception, status),
                get("reason") or (_short(exception) if exception is not None else ""),
                _NAN if response_time is None else float(response_time),
                int(response_length or 0),
                self.worker,
                get("cohort") or record.SURGE,
                get("source") or "",
            )
        )
        self.requests += 1

    def journey(
        self,
        *,
        journey: str,
        journey_id: str,
        person_id: str,
        attempt: int,
        t_intended: float,
        t_start: float,
        t_end: float,
        ok: bool,
        outcome: str,
        step: str | None,
        reason: str,
        cohort: str = record.SURGE,
    ) -> None:
        self.table.append(
            {
                "kind": record.KIND_JOURNEY,
                "t_intended": t_intended,
                "t_start": t_start,
                "step": journey,
                "journey": journey,
                "journey_id": journey_id,
                "person_id": person_id,
                "attempt": attempt,
                "outcome": outcome,
                "reason": f"{step}: {reason}" if step and not ok else reason,
                "latency_ms": (t_end - t_intended) * 1000.0,
                "worker": self.worker,
                "cohort": cohort,
            }
        )
        self.journeys += 1
        self.journeys_ok += ok

    def event(self, *, what: str, person_id: str, t: float, reason: str = "") -> None:
        """A population event (records.EVENTS): what happened to a signed-in person, when."""
        self.table.append(
            {
                "kind": record.KIND_EVENT,
                "t_start": t,
                "step": what,
                "person_id": person_id,
                "reason": reason,
                "worker": self.worker,
                "cohort": record.POPULATION,
            }
        )

    def drop(
        self, *, journey: str, person_id: str, attempt: int, t_intended: float, reason: str
    ) -> None:
        self.table.append(
            {
                "kind": record.KIND_DROPPED,
                "t_intended": t_intended,
                "t_start": t_intended,
                "step": journey,
                "journey": journey,
                "person_id": person_id,
                "attempt": attempt,
                "outcome": record.DROPPED,
                "reason": reason,
                "worker": self.worker,
            }
        )
        self.dropped += 1


_NAN = math.nan
_NO_CONTEXT: dict[str, Any] = {}
_REQUEST_ORDER = (
    "kind",
    "t_intended",
    "t_start",
    "step",
    "journey",
    "journey_id",
    "person_id",
    "attempt",
    "method",
    "status",
    "outcome",
    "reason",
    "latency_ms",
    "bytes",
    "worker",
    "cohort",
    "source",
)
if tuple(record.REQUEST_SCHEMA.names) != _REQUEST_ORDER:  # pragma: no cover - a schema change
    raise ImportError("REQUEST_SCHEMA changed: update Recorder.on_request's row order")


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."
