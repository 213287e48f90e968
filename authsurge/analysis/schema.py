"""The analysis.json schema (``RunAnalysis.to_json()``), format_version 1. Stable.

Readers (report, compare, CI gates) may rely on every key below; new keys may be added,
none is renamed or removed without bumping ``format_version``. Rates are per second,
latencies in milliseconds, shares as fractions (0.05 = 5%), times as epoch seconds. A
value that could not be measured is null, never NaN.

    format_version      1
    run                 {id, scenario, target, duration_s, status, started_at, ended_at,
                         records, shards}
    config              {window_s, settle_s, goodput_share, knee_p95_ms}
    curves              {mode: "steady_levels" | "binned", rule: text (which windows count)}
    steps               {<request step>: STEP}        one per step, in journey order
    journeys            {<journey name>: STEP}        journey rows (latency from t_intended)
    first_to_fail       [{rank, step, reached, rank_by, knee, knee_offered, capacity, reason,
                          healthy_up_to, next, margin_to_next, margin_is_lower_bound}]
                        ranked by knee (in ``rank_by`` units, journey arrivals/s when the
                        run has journey rows), steps without a knee last; margin_to_next is
                        next.knee / knee (a lower bound when the next step has no knee)
    verdict             {status: "fails" | "survives" | "unknown", text, limiting_step,
                         multiple_needed, demand_basis: "schedule" | "observed", demand_rule,
                         peak_arrivals, steps: {<step>: {peak_demand, capacity, headroom,
                         multiple_needed, capacity_is_lower_bound, requests_per_arrival}}}
    slos                [{slo, step, metric, max, at_offered_max, unit, measured, passed,
                          worst_step, per_step: {<step>: value}}]
    retry               {available, attempts, persons, retries, amplification, rule,
                         peak_window: {t, window, attempts, first_attempts, amplification}}
    dropped             {count, share, by_journey: {<journey>: n}, peak_rps,
                         meta_dropped_journeys}
    warnings            [text]                        damaged shards, short levels, ...

STEP:

    scope               "request" | "journey"
    requests, ok, errors, error_rate
    errors_by_class     {<outcome>: count}            outcome classes from authsurge.record
    top_errors          [{reason, count}]             the three commonest failure reasons
    p50, p90, p95, p99, max                           over the whole run, failures included
    offered_max, goodput_max                          highest curve-point values (req/s)
    curve               [{offered, arrivals, goodput, error_rate, p50, p90, p95, p99, max,
                          concurrency, level_rate, windows, t_first, t_last}]
    knee                {reached, offered, arrivals, capacity, capacity_is_lower_bound,
                         reason, rule, capacity_rule, at_lowest_point, max_offered,
                         max_arrivals}
    usl                 {status: "fitted" | "not fitted", sigma, kappa, lambda, r2, n_points,
                         n_max_measured, peak_n, peak_throughput,
                         peak_status: "predicted" | "beyond_range" | "no_peak", method, note}
    bottleneck          {kind: "cpu" | "cpu_per_process" | "memory" | "none" | "unknown",
                         text, at: "knee" | "peak load", target_cpu_percent,
                         target_cpu_count, target_rss_bytes, rss_growth,
                         cpu_percent_before_knee, capacity_per_vcpu,
                         capacity_per_vcpu_unit, harness_warning}
"""

from __future__ import annotations

ANALYSIS_FORMAT_VERSION = 1

TOP_LEVEL_KEYS = ("format_version", "run", "config", "curves", "steps", "journeys",
                  "first_to_fail", "verdict", "slos", "retry", "dropped", "warnings")
RUN_KEYS = ("id", "scenario", "target", "duration_s", "status", "started_at", "ended_at",
            "records", "shards")
STEP_KEYS = ("scope", "requests", "ok", "errors", "error_rate", "errors_by_class", "top_errors",
             "p50", "p90", "p95", "p99", "max", "offered_max", "goodput_max", "curve", "knee",
             "usl", "bottleneck")
KNEE_KEYS = ("reached", "offered", "arrivals", "capacity", "capacity_is_lower_bound", "reason",
             "rule", "capacity_rule", "at_lowest_point", "max_offered", "max_arrivals")
