"""Surge verdict: headroom against the planned peak, retry amplification, drops, SLOs.

Peak demand per step (``demand_basis``):

- "schedule" (preferred): the planned peak from schedule.parquet. For each journey j,
  requests_per_arrival[s][j] is the number of step-s requests the run made per arrival of
  journey j, counted in the windows where journey j was healthy (journey error rate
  <= 1 - goodput_share, so upstream failures do not hide downstream requests). Then
  demand_s(t) = sum_j planned_rate_j(t) x requests_per_arrival[s][j] and the peak is its
  maximum over the schedule. Retries are not in the plan; see ``retry``.
- "observed" (no schedule.parquet or no journey rows): the highest offered load of the
  step over its curve points (steady state), or over its windows when it has no points.

headroom = capacity / peak demand; multiple_needed = peak demand / capacity. For a step
without a knee the capacity is a lower bound, so headroom is a lower bound too.

Retry amplification = attempts / persons, where attempts are all journey arrivals
(started or dropped) and persons the distinct person_id among them; at the peak window
(most arrivals) it is attempts / first attempts arriving in that window.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from authsurge.analysis.curves import Curves
from authsurge.analysis.knee import Knee, finite_or_none, slo_applies, slo_text
from authsurge.analysis.record_index import RecordIndex
from authsurge.analysis.windows import SCOPE_JOURNEY, SCOPE_REQUEST
from authsurge.analysis.wording.figures import rate
from authsurge.scenario import AnalysisConfig, Slo

DEMAND_RULE_SCHEDULE = (
    "peak demand = max over the schedule of sum over journeys of planned "
    "arrivals/s x the step's requests per arrival (measured in windows where "
    "the journey was healthy); retries excluded"
)
DEMAND_RULE_OBSERVED = (
    "peak demand = the highest steady offered load of the step in this run "
    "(no schedule.parquet or no journey rows to scale the plan)"
)
_LATENCY_METRICS = {"p50": 0, "p90": 1, "p95": 2, "p99": 3, "max": 4}


def peak_demand(
    index: RecordIndex,
    windows: pd.DataFrame,
    curves: Curves,
    schedule: pd.DataFrame | None,
    config: AnalysisConfig,
) -> dict[str, Any]:
    """Planned (or observed) peak load per request step, with the basis used."""
    steps = [
        n
        for n, sc in zip(index.series_names, index.series_scopes, strict=True)
        if sc == SCOPE_REQUEST
    ]
    per_arrival = _requests_per_arrival(index, windows, config)
    plan = _planned_rates(schedule, index.journey_names)
    if per_arrival is not None and plan is not None:
        ratios, journeys = per_arrival
        rates, peak_arrivals = plan
        out: dict[str, Any] = {
            "basis": "schedule",
            "rule": DEMAND_RULE_SCHEDULE,
            "peak_arrivals": peak_arrivals,
            "steps": {},
        }
        out["journeys"] = {
            name: float(rates[:, j].max()) if rates.size else 0.0
            for j, name in enumerate(index.journey_names)
        }
        # the mix of the busiest second (the journeys' own peaks may fall in other seconds)
        busiest = int(rates.sum(axis=1).argmax()) if rates.size else 0
        out["at_peak"] = {
            name: float(rates[busiest, j]) if rates.size else 0.0
            for j, name in enumerate(index.journey_names)
        }
        for name in steps:
            s = index.series_of(name)
            demand = rates @ ratios[s]  # [T, J] x [J]: planned step req/s each second
            out["steps"][name] = {
                "peak_demand": float(demand.max()) if demand.size else 0.0,
                "requests_per_arrival": {
                    journeys[j]: float(ratios[s, j])
                    for j in range(len(journeys))
                    if ratios[s, j] > 0
                },
            }
        return out
    out = {
        "basis": "observed",
        "rule": DEMAND_RULE_OBSERVED,
        "peak_arrivals": None,
        "steps": {},
        "journeys": {},
    }
    for journey in index.journey_names:
        series = index.journey_series(journey)
        if series in index.series_names:
            pts = curves.of(series)
            if not pts.empty:
                out["journeys"][journey] = float(pts["offered_rps"].max())
    for name in steps:
        pts = curves.of(name)
        if not pts.empty:
            peak = float(pts["offered_rps"].max())
        else:
            peak = float(windows.loc[windows["series"] == name, "offered_rps"].max())
        out["steps"][name] = {"peak_demand": peak, "requests_per_arrival": None}
    return out


def _requests_per_arrival(
    index: RecordIndex, windows: pd.DataFrame, config: AnalysisConfig
) -> tuple[np.ndarray, list[str]] | None:
    """[n_series, n_journeys] step requests per journey arrival, over healthy windows."""
    n_j, n_w, n_s = len(index.journey_names), index.n_windows, index.n_series
    if n_j == 0:
        return None
    journey_series: dict[str, int] = {}
    for s, (name, scope) in enumerate(zip(index.series_names, index.series_scopes, strict=True)):
        if scope == SCOPE_JOURNEY:
            journey_series[name.removeprefix("journey:")] = s
    if not journey_series:
        return None
    error_rate = windows["error_rate"].to_numpy().reshape(n_s, n_w)
    completed = windows["completed"].to_numpy().reshape(n_s, n_w)
    healthy = np.zeros((n_j, n_w), dtype=bool)
    for j, name in enumerate(index.journey_names):  # journeys: a handful
        js = journey_series.get(name)
        if js is not None:
            healthy[j] = (completed[js] > 0) & (error_rate[js] <= 1.0 - config.goodput_share)
    if not healthy.any():
        return None
    code = {name: j for j, name in enumerate(index.journey_names)}
    requests = np.zeros((n_s, n_j), np.int64)
    for s, journey, w, n in index.requests_by_journey_window():
        if healthy[code[journey], w]:
            requests[s, code[journey]] += n
    arrivals = np.zeros(n_j, np.int64)
    for journey, w, n in index.arrivals_by_journey_window():
        if healthy[code[journey], w]:
            arrivals[code[journey]] += n
    with np.errstate(invalid="ignore", divide="ignore"):
        ratios = np.where(arrivals > 0, requests / np.maximum(arrivals, 1), 0.0)
    return ratios, index.journey_names


def _planned_rates(
    schedule: pd.DataFrame | None, journeys: list[str]
) -> tuple[np.ndarray, float] | None:
    """[seconds, n_journeys] planned arrivals/s in the index's journey order, and the total peak."""
    if schedule is None or schedule.empty:
        return None
    table = schedule.pivot_table(
        index="t", columns="journey", values="planned_rate", aggfunc="sum", observed=True
    ).fillna(0.0)
    if not set(map(str, table.columns)) & set(journeys):
        return None
    table.columns = table.columns.astype(str)
    rates = table.reindex(columns=journeys, fill_value=0.0).to_numpy(dtype=float)
    return rates, float(table.sum(axis=1).max())


def headroom(
    demand: dict[str, Any], knees: dict[str, Knee], cause: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Capacity against peak demand per step, and the verdict.

    With a cause (authsurge.analysis.cause) whose knee was measured, the verdict is stated
    for it, so the headline, the ranking and the verdict name one limiting step: the other
    failing steps queue behind the cause and their capacity is its capacity. A journey
    cause is judged on journey arrivals/s against the journey's planned peak, and so is a
    step named inside its journey's inseparable cost (their knees are the journey's); a cause of
    inseparable steps made by several journeys, on the step the surge needs most of."""
    steps: dict[str, Any] = {}
    for name, d in demand["steps"].items():
        knee = knees.get(name)
        capacity = knee.capacity if knee else None
        peak = d["peak_demand"]
        lower = bool(knee is None or not knee.reached)
        room = capacity / peak if capacity and peak and peak > 0 else None
        need = peak / capacity if capacity and peak and capacity > 0 else None
        steps[name] = {
            "peak_demand": peak,
            "capacity": capacity,
            "headroom": room,
            "multiple_needed": need,
            "capacity_is_lower_bound": lower,
            "requests_per_arrival": d["requests_per_arrival"],
        }
    failing = {
        n: s
        for n, s in steps.items()
        if s["multiple_needed"] is not None and s["multiple_needed"] > 1
    }
    known = {n: s for n, s in failing.items() if not s["capacity_is_lower_bound"]}
    unknown = {n: s for n, s in failing.items() if s["capacity_is_lower_bound"]}
    worst: str | None
    judged = _cause_entry(demand, knees, cause)
    if judged is not None and judged[1]["multiple_needed"] <= 1 and known:
        judged = None  # the cause fits, but another step's measured capacity does not
    if judged is not None:
        worst, entry = judged
        if "capacity_rule" in entry:  # its own curve's lower bound is a capacity here
            steps[worst] = entry
        steps.setdefault(worst, entry)
        need = entry["multiple_needed"]
        status = "fails" if need > 1 else "survives"
        text = (
            f"the surge peak needs {need:.1f}x today's {worst} capacity "
            f"({rate(entry['peak_demand'])} {entry['unit']} planned vs "
            f"{rate(entry['capacity'])} {entry['unit']})"
            if status == "fails"
            else f"the surge peak fits: the cause, {worst}, has {entry['headroom']:.1f}x headroom"
        )
        if "capacity_rule" in entry:
            text += (
                "; its capacity is the most it served, as the steps queued behind it failed first"
            )
    elif known:
        worst = max(known, key=lambda n: known[n]["multiple_needed"])
        status = "fails"
        text = (
            f"the surge peak needs {known[worst]['multiple_needed']:.1f}x today's {worst} "
            f"capacity ({rate(steps[worst]['peak_demand'])} req/s planned vs "
            f"{rate(steps[worst]['capacity'])} req/s)"
        )
    elif unknown:
        worst = max(unknown, key=lambda n: unknown[n]["multiple_needed"])
        status = "unknown"
        text = (
            f"the surge peak ({rate(steps[worst]['peak_demand'])} req/s of {worst}) lies beyond "
            f"the measured range (healthy up to {rate(steps[worst]['capacity'])} req/s); "
            "rerun with a higher ramp"
        )
    else:
        rooms = {n: s["headroom"] for n, s in steps.items() if s["headroom"] is not None}
        worst = min(rooms, key=lambda n: rooms[n]) if rooms else None
        status = "survives" if worst else "unknown"
        text = (
            f"the surge peak fits: the tightest step, {worst}, has {rooms[worst]:.1f}x headroom"
            if worst
            else "no demand or capacity to compare"
        )
    return {
        "status": status,
        "text": text,
        "limiting_step": worst,
        "multiple_needed": steps[worst]["multiple_needed"] if worst else None,
        "demand_basis": demand["basis"],
        "demand_rule": demand["rule"],
        "peak_arrivals": demand["peak_arrivals"],
        "journeys": demand.get("at_peak") or demand.get("journeys") or {},
        "steps": steps,
    }


def _cause_entry(
    demand: dict[str, Any], knees: dict[str, Knee], cause: dict[str, Any] | None
) -> tuple[str, dict[str, Any]] | None:
    """(name, headroom entry) of the cause when its capacity and demand are known."""
    if cause is None:
        return None
    if cause.get("step") and not (cause.get("apportioned") and cause.get("journey")):
        name, key, unit = cause["step"], cause["step"], "req/s"
        peak = (demand["steps"].get(name) or {}).get("peak_demand")
    elif cause.get("journey"):
        name = f"journey {cause['journey']}"
        key, unit = cause["series"], "journeys/s"
        peak = (demand.get("journeys") or {}).get(cause["journey"])
    else:  # inseparable steps of several journeys: the one the surge needs most of
        needs = {
            s: demand["steps"][s]["peak_demand"] / knees[s].capacity
            for s in cause.get("steps") or []
            if s in demand["steps"] and s in knees and knees[s].reached and knees[s].capacity
        }
        if not needs:
            return None
        name = key = max(needs, key=lambda s: needs[s])
        unit = "req/s"
        peak = demand["steps"][key]["peak_demand"]
    knee = knees.get(key)
    throttled = _throttled(knee, cause)
    if knee is None or not (knee.reached or throttled) or not knee.capacity or not peak:
        return None
    entry = {
        "peak_demand": peak,
        "capacity": knee.capacity,
        "headroom": knee.capacity / peak,
        "multiple_needed": peak / knee.capacity,
        "capacity_is_lower_bound": False,
        "requests_per_arrival": (demand["steps"].get(key) or {}).get("requests_per_arrival"),
        "unit": unit,
        "series": key,  # the analysis series: "journey web_login" is the series web_login
    }
    if throttled:
        entry["capacity_rule"] = THROTTLED_RULE
    return name, entry


THROTTLED_RULE = (
    "the cause's own curve shows no knee: the steps queued behind it failed first and "
    "throttled what reached it, so its capacity is the most goodput it sustained while the "
    "resource it uses up was saturated"
)


def _throttled(knee: Knee | None, cause: dict[str, Any]) -> bool:
    """The cause's curve has no knee only because the steps queued behind it failed first.

    On a shared worker pool, a cheap step ahead of the hash in the same journey (the login
    form before its submit) can time out in the queue first; fewer people then reach the
    hash, and its offered load stops rising before its own curve can bend. The resource
    was saturated at the collateral steps' knee (that is how the cause was found), so the
    cause's peak goodput is what the saturated resource gave it."""
    return bool(
        knee is not None and not knee.reached and cause.get("resource") and cause.get("collateral")
    )


def retry_amplification(index: RecordIndex) -> dict[str, Any]:
    counted = index.arrivals()
    attempts = counted["attempts"]
    if attempts == 0:
        return {
            "available": False,
            "note": "no journey rows: retries cannot be told apart",
            "attempts": 0,
            "persons": 0,
            "amplification": None,
            "peak_window": None,
            "by_step": _retries_by_step(index),
        }
    # person ids missing: each person has exactly one first attempt
    persons = counted["persons"] or counted["first_attempts"]
    per_window, firsts = counted["per_window"], counted["firsts_per_window"]
    peak = int(np.argmax(per_window))
    return {
        "available": True,
        "by_step": _retries_by_step(index),
        "attempts": attempts,
        "persons": persons,
        "retries": attempts - persons,
        "amplification": attempts / persons if persons else None,
        "peak_window": {
            "t": float(index.window_start(peak)),
            "window": peak,
            "attempts": int(per_window[peak]),
            "first_attempts": int(firsts[peak]),
            "amplification": float(per_window[peak] / firsts[peak]) if firsts[peak] else None,
        },
        "rule": "attempts / distinct persons over the run; at the peak window (most arrivals) "
        "attempts / first attempts arriving in it; by_step: each request step's requests / "
        "those of first attempts, over the run and in its window with the most retried requests",
    }


def _retries_by_step(index: RecordIndex) -> dict[str, dict[str, Any]]:
    """Where the retries' extra load landed: per request step, its requests against those
    of first attempts, over the run and in the window where retries added the most."""
    requests, firsts = index.request_attempts()
    out = {}
    for s, (name, scope) in enumerate(zip(index.series_names, index.series_scopes, strict=True)):
        total, first = int(requests[s].sum()), int(firsts[s].sum())
        if scope != SCOPE_REQUEST or total == 0:
            continue
        extra = requests[s] - firsts[s]
        peak = int(np.argmax(extra))
        out[name] = {
            "requests": total,
            "first_attempts": first,
            "retries": total - first,
            "amplification": total / first if first else None,
            "peak_window": None
            if extra[peak] <= 0
            else {
                "t": float(index.window_start(peak)),
                "window": peak,
                "requests": int(requests[s, peak]),
                "first_attempts": int(firsts[s, peak]),
                "amplification": float(requests[s, peak] / firsts[s, peak])
                if firsts[s, peak]
                else None,
            },
        }
    return out


def dropped_journeys(index: RecordIndex, meta: dict[str, Any]) -> dict[str, Any]:
    counted = index.arrivals()
    per_window = counted["dropped_per_window"]
    n = int(per_window.sum())
    total = counted["attempts"]
    order = {name: j for j, name in enumerate(index.journey_names)}
    by_journey = dict(sorted(counted["dropped_by_journey"].items(), key=lambda kv: order[kv[0]]))
    return {
        "count": n,
        "share": n / total if total else None,
        "by_journey": {k: int(v) for k, v in by_journey.items()},
        "peak_rps": float((per_window.max() if n else 0) / index.window_s),
        "meta_dropped_journeys": (meta.get("traffic") or {}).get("dropped_journeys"),
    }


def evaluate_slos(
    slos: list[Slo], index: RecordIndex, windows: pd.DataFrame
) -> list[dict[str, Any]]:
    """Each SLO over the whole run (its steps' raw records), with the measured value and pass/fail."""
    n_s, n_w = index.n_series, index.n_windows
    offered = windows["offered_rps"].to_numpy().reshape(n_s, n_w)
    completed = windows["completed"].to_numpy().reshape(n_s, n_w)
    good = windows["ok"].to_numpy().reshape(n_s, n_w)
    out = []
    for slo in slos:
        names = [
            n
            for n, sc in zip(index.series_names, index.series_scopes, strict=True)
            if sc == SCOPE_REQUEST and slo_applies(slo, n)
        ]
        if not names:  # an SLO may name a journey
            names = [n for n in index.series_names if slo_applies(slo, n.removeprefix("journey:"))]
        entry: dict[str, Any] = {
            "slo": slo_text(slo),
            "step": slo.step,
            "metric": slo.metric,
            "max": slo.max,
            "at_offered_max": slo.at_offered_max,
            "unit": "fraction" if slo.metric == "error_rate" else "ms",
            "measured": None,
            "passed": None,
            "worst_step": None,
            "per_step": {},
        }
        if not names:
            entry["note"] = "no step matches; not judged"
            out.append(entry)
            continue
        wanted = np.zeros(n_s, dtype=bool)
        wanted[[index.series_of(n) for n in names]] = True
        allowed = np.broadcast_to(wanted[:, None], (n_s, n_w))
        if slo.at_offered_max is not None:
            allowed = allowed & (offered <= slo.at_offered_max)
        if slo.metric == "error_rate":
            done = np.where(allowed, completed, 0).sum(axis=1)
            bad = np.where(allowed, completed - good, 0).sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                values = np.where(done > 0, bad / np.maximum(done, 1), np.nan)
        elif slo.at_offered_max is None:  # every window: the whole-run percentiles
            values = np.where(
                wanted, index.series_quantiles()[:, _LATENCY_METRICS[slo.metric]], np.nan
            )
        else:
            group_of = np.where(allowed, np.arange(n_s)[:, None], -1)
            _, pct = index.latency_quantiles(group_of, n_s)
            values = pct[:, _LATENCY_METRICS[slo.metric]]
        per_step = {n: finite_or_none(values[index.series_of(n)]) for n in names}
        judged = {n: v for n, v in per_step.items() if v is not None}
        entry["per_step"] = per_step
        if judged:
            worst = max(judged, key=lambda n: judged[n])
            entry.update(measured=judged[worst], worst_step=worst, passed=judged[worst] <= slo.max)
        else:
            entry["note"] = "no records in range; not judged"
        out.append(entry)
    return out
