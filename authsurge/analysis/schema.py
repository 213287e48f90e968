"""The analysis.json schema (``RunAnalysis.to_json()``), format_version 1. Stable.

Readers (report, compare, CI gates) may rely on every key below; new keys may be added,
none is renamed or removed without bumping ``format_version``. Rates are per second,
latencies in milliseconds, shares as fractions (0.05 = 5%), times as epoch seconds. A
value that could not be measured is null, never NaN.

    format_version      1
    findings            [{kind, ...}]                 the run's story in order, decided once
                        (authsurge.analysis.findings); every rendering (terminal, HTML,
                        leadership summary) only formats these (authsurge.analysis.wording).
                        Kinds and their fields: FINDINGS below
    run                 {id, scenario, target, duration_s, status, started_at, ended_at,
                         records, shards}
    config              {window_s, settle_s, goodput_share, knee_p95_ms}
    curves              {mode: "steady_levels" | "binned", rule: text (which windows count)}
    steps               {<request step>: STEP}        one per step, in journey order
    journeys            {<journey name>: STEP}        journey rows (latency from t_intended)
    first_to_fail       [{rank, step, judged, not_judged_reason, reached, rank_by, knee,
                          knee_interval, knee_offered, capacity, reason, healthy_up_to,
                          fails_together_with, next, margin_to_next, margin_is_lower_bound,
                          generator_bound}]
                        ranked by knee (in ``rank_by`` units, journey arrivals/s when the
                        run has journey rows), steps without a knee after them, steps not
                        judged (no curve point with enough requests; rank null) last;
                        steps whose knee_interval overlaps fail together and share a rank;
                        margin_to_next is next.knee / knee for the next step outside the
                        tie (a lower bound when it has no knee)
    ties                text: the tie rule (authsurge.analysis.ranking)
    cause               null when no step failed (or the first knee is the client's), else
                        {kind: "step" | "journey" | "steps", step, journey, series, steps,
                         resource, share, cost_per_request,
                         cost_interval, cost_unit, per_journey, collateral, fail_together,
                         reason, apportioned, evidence}: the step (or inseparable journey)
                        that used most of the shared resource at the first knee
                        (authsurge.analysis.cause). apportioned: null, or {step, shares,
                        unloaded_ms, requests, rule} when the step was named inside an
                        inseparable unit by the steps' unloaded response times
                        (authsurge.analysis.service_share); journey is then its journey.
                        series: the series whose knee is the cause's capacity (the
                        journey's for a journey cause or a step apportioned in one)
    cost                [{resource, unit, fitted, note, samples, span, r2, idle,
                          idle_interval, units: [{steps, separable, cost_per_request,
                          interval, journeys, per_journey: {journey, requests, cost, interval},
                          reason}], rule, at_knee}]
                        one cost model per resource (target CPU in CPU-ms, scraped counters);
                        samples counts the resource's sample intervals used, span the time
                        they may come from; r2, idle, idle_interval and rule are null when
                        fitted is false (note says why); at_knee: what the model gives the
                        requests at the first knee's last passing point (null without one)
                        (authsurge.analysis.cost)
    collapse            null, or the collapse at the lowest surge over steps and journeys:
                        {series, scope, collapsed, rule, peak_goodput, peak_arrivals,
                         at_arrivals, at_offered, lowest_goodput, failures: {<outcome>: n},
                         seconds} (authsurge.analysis.collapse)
    verdict             {status: "fails" | "survives" | "unknown", text, limiting_step,
                         multiple_needed, demand_basis: "schedule" | "observed", demand_rule,
                         peak_arrivals, journeys: {<journey>: planned arrivals/s in the
                         busiest second (observed basis: each journey's highest offered)},
                         generator_bound, steps: {<step>: {peak_demand, capacity,
                         headroom, multiple_needed, capacity_is_lower_bound,
                         requests_per_arrival}}}
                        generator_bound: the limiting step was judged while the load
                        generator was saturated; status is then "unknown" and the text
                        says "the client saturated first; add workers" (unless it survives
                        on the lower-bound capacity). With a cause whose capacity was
                        measured, the verdict is stated for it (unless it fits while another
                        step's measured capacity does not): limiting_step is the cause's
                        step, or "journey <name>" for a journey cause, whose steps entry is
                        in journeys/s and adds {unit, series}. A cause whose own curve has
                        no knee because the steps queued behind it failed first (they throttle
                        what reaches it) is judged on its peak goodput: its steps entry adds
                        capacity_rule (authsurge.analysis.verdict.THROTTLED_RULE)
    slos                [{slo, step, metric, max, at_offered_max, unit, measured, passed,
                          worst_step, per_step: {<step>: value}}]
    retry               {available, attempts, persons, retries, amplification, rule,
                         peak_window: {t, window, attempts, first_attempts, amplification},
                         by_step: {<request step>: {requests, first_attempts, retries,
                         amplification, peak_window: {t, window, requests, first_attempts,
                         amplification} or null}}} (by arrival window)
    dropped             {count, share, by_journey: {<journey>: n}, peak_rps,
                         meta_dropped_journeys}
    generator           {sampled, bound_seconds: [[start, end], ...], bound_s, share_of_run,
                         rule, per_worker: {<worker>: {samples, saturated_samples, bound_s,
                         max_cpu_percent, max_loop_lag_ms, bound_seconds, generates_load}}}
                        seconds where the load generator itself was the limit (rule in
                        authsurge.selfcheck: a worker's CPU > 90% of one core or loop lag
                        > 50 ms for 3 samples / 3 s); spans clipped to the run; bound_s and
                        share_of_run null when no harness was sampled; "master" is
                        reported but never counted (it generates no load)
    harness             {peak_cpu_percent, peak_loop_lag_ms, mean_cpu_percent: {<worker>: %},
                         dropped_journeys, planned_journeys, started_journeys, shortfall:
                         [{start, end, planned, started, dropped, late, max_lag_s}],
                         on_schedule}: how the load generator fared over the run
                        (authsurge.analysis.selfcheck.health)
    population          null without a scenario population, else {size, signed_in_at_start,
                         warmup_failures, joined, api: {steps, requests, errors, error_rate,
                         p95}, surge_sign_in: {step, requests, errors, error_rate, p95} | null (the
                         surge's login.*/oidc.* step with the highest error rate), refreshes,
                         relogins, gave_up, why: {"<event>: <why>": n} (relogin, gave_up,
                         sign_in_failed),
                         windows: [{t, signed_in, api_requests, api_errors, refreshes,
                         relogins}], rule, contrast}: the signed-in people's API apart from the
                        surge's sign-ins; their requests are the "population:<step>" entries
                        of steps, left out of first_to_fail (authsurge.analysis.population).
                        contrast: null without population API requests, else {over: "peak" |
                         "run", from_s, to_s, sign_in: {steps, requests, errors, error_rate,
                         p95}, api: {...the same}, error_limit, p95_limit_ms, sign_in_held,
                         api_stayed_up, rule}: the surge's sign-in steps against the
                        population's API at the surge's peak, and whether each stayed up
                        (errors < error_limit and p95 <= p95_limit_ms; null: no requests)
                        (authsurge.analysis.contrast)
    recovery            null when the planned sign-in load never fell below capacity after a
                        peak above it (a plain step ramp) or the run has no sign-in journeys,
                        else {journeys, load_basis: "schedule" | "first attempts",
                         capacity_rps, capacity_source: "calibration" | "knee" | null,
                         peak_at_s, peak_rps, exceeded_at_s, fell_below_at_s, recovered_at_s,
                         recovery_s, recovered, metastable, pre_surge_p95_ms, after_fall_s,
                         attempts_after_fall, retry_share_after_fall, relogins_after_fall,
                         reason, rule}: how long the surge's sign-in journeys took to recover
                        (goodput within 10% of offered and p95 within 2x the pre-surge p95,
                        held for 3 windows) after the planned load fell below capacity; times
                        in seconds from the run's start. recovered and metastable are null
                        when undetermined (reason says why: capacity unknown, no pre-surge
                        windows, too soon to tell) (authsurge.analysis.recovery)
    device              null without device sign-ins (device_login), else {attempts,
                         sign_ins, polls, polls_per_attempt, polls_per_sign_in, slow_downs,
                         approve_s: {p50, p90, max}, by_load: [{offered_per_s, attempts,
                         polls_per_attempt}], amplification, rising, token_endpoint_requests,
                         polling_share_of_token_endpoint, rule}: polls per sign-in, the time
                        from the device authorization to the token, polls per attempt as the
                        offered device sign-ins rise, and how much of the token endpoint's
                        load was polling (authsurge.analysis.device_polls)
    sizing              {available, note, resource, reference: meta.json's reference | null,
                         reference_text, headroom, peak_arrivals, peak_basis: "schedule" |
                         "observed" | "stated", idle, calibration: {factor, step, cpu_at_knee,
                         text}, rows: [{steps, name, separable, cost, interval, per_vcpu,
                         per_vcpu_interval, journey, journeys_per_vcpu, peak_rps, planned,
                         cpu_at_peak, share}], cpu_at_peak, vcpus, vcpus_with_headroom,
                         dominant: {name, steps, journey, share}, rule}: the target-CPU cost
                        model, calibrated (cost = the model's x calibration.factor, CPU-ms
                        per request), as requests/s per vCPU, and the vCPUs the peak needs;
                        idle, cpu_at_peak and calibration.cpu_at_knee in CPU-ms/s; planned
                        false: a step no journey makes (the signed-in population's API),
                        at its observed peak, not scaled (authsurge.analysis.sizing)
    warnings            [text]                        damaged shards, short levels, ...

FINDINGS (in story order; exactly one of client_first, fail_together, saturates_first,
nothing_judged, healthy, no_requests leads, after any journeys_failed):

    journeys_failed     {journey, share, failed, attempts, at: "already at the lowest load" |
                         "over a run too short for load levels", step, reason, advice}: at
                        least half of a journey's attempts failed, and of those at its
                        lowest-load curve point (a flow that does not work, not a capacity
                        limit); arrivals the harness dropped or stopped are left out
    client_first        {step, offered, arrivals, capacity, reason, bound_s, share_of_run}
    fail_together       {steps, span: [low, high] | null, unit}
    saturates_first     {step, offered, arrivals, capacity, reason, bottleneck: {kind, text,
                         target_cpu_percent, target_cpu_count, rss_growth}, p95_below}
    nothing_judged      {text}
    healthy             {step, healthy_up_to}
    no_requests         {}
    cause               {name, cause_kind, steps, relation: "tie" | "contains_first" |
                         "first_queues_behind" | "is_first", collateral, resource, share,
                         cost_per_request, cost_unit, per_journey, inseparable,
                         apportioned_in, evidence}
    last_step           {step, reached, load}: how far the step that fails last goes
    collapse            {who, at_arrivals, at_offered, peak_goodput, lowest_goodput,
                         failures, seconds, share}
    surge               {status, limiting_step, multiple_needed, headroom, peak_demand,
                         capacity, unit, capacity_is_lower_bound, peak_arrivals,
                         demand_basis, text, say_text}
    recovery            {capacity, capacity_source, fell_below_at_s, recovered_at_s,
                         recovery_s, recovered, metastable, after_fall_s, pre_surge_p95,
                         retry_share, relogins, reason}: from the recovery section
    device              {attempts, sign_ins, polls_per_sign_in, approve_p50_s, approve_p90_s,
                         amplification, rising, polling_share_of_token_endpoint, slow_downs}:
                        from the device section
    sizing              {available, note, reference_text, calibration, rows, peak_arrivals,
                         peak_basis, vcpus, vcpus_with_headroom, headroom, dominant}: from the
                        sizing section (available false: no cost model; note says why)
    population          {size, signed_in_at_start, joined, lowest_signed_in,
                         highest_signed_in, api_steps, api_requests, api_error_rate, api_p95,
                         sign_in_step, sign_in_error_rate, sign_in_p95, refreshes, relogins,
                         gave_up, contrast: {over, from_s, to_s, sign_in_error_rate,
                         sign_in_p95, api_error_rate, api_p95, error_limit, p95_limit_ms,
                         sign_in_held, api_stayed_up} | null}
    retries             {amplification, peak_amplification, retries, persons}
    dropped             {count, share}
    slos                {met, judged, total, failed: [{slo, measured, unit, worst_step}]}

STEP:

    scope               "request" | "journey"
    requests, ok, errors, error_rate
    errors_by_class     {<outcome>: count}            outcome classes from authsurge.rundir.records
    top_errors          [{reason, count}]             the three commonest failure reasons
    p50, p90, p95, p99, max                           over the whole run, failures included
    offered_max, goodput_max                          highest curve-point values (req/s)
    curve               [{offered, arrivals, goodput, error_rate, p50, p90, p95, p99, max,
                          concurrency, level_rate, windows, t_first, t_last}]
    knee                {reached, offered, arrivals, capacity, capacity_is_lower_bound,
                         reason, rule, capacity_rule, at_lowest_point, max_offered,
                         max_arrivals, generator_bound}
                        generator_bound: the point the knee is judged at (its first failing
                        point, or the highest load without a knee) overlaps generator-bound
                        seconds. A reached knee then keeps its load, gets
                        capacity_is_lower_bound true and a reason starting "the client
                        saturated first; add workers": it is not the target's capacity
    usl                 {status: "fitted" | "not fitted", sigma, kappa, lambda, r2, n_points,
                         n_max_measured, peak_n, peak_throughput,
                         peak_status: "predicted" | "beyond_range" | "no_peak", method, note}
    collapse            {collapsed, rule, ...}: as the top-level collapse, for this series
    bottleneck          {kind: "cpu" | "cpu_per_process" | "memory" | "none" | "unknown",
                         text, at: "knee" | "peak load", target_cpu_percent,
                         target_cpu_count, target_rss_bytes, rss_growth,
                         cpu_percent_before_knee, capacity_per_vcpu,
                         capacity_per_vcpu_unit, harness_warning}
"""

from __future__ import annotations

ANALYSIS_FORMAT_VERSION = 1

TOP_LEVEL_KEYS = (
    "format_version",
    "findings",
    "run",
    "config",
    "curves",
    "steps",
    "journeys",
    "first_to_fail",
    "ties",
    "cause",
    "cost",
    "collapse",
    "verdict",
    "slos",
    "retry",
    "dropped",
    "generator",
    "harness",
    "population",
    "recovery",
    "device",
    "sizing",
    "warnings",
)
RUN_KEYS = (
    "id",
    "scenario",
    "target",
    "duration_s",
    "status",
    "started_at",
    "ended_at",
    "records",
    "shards",
)
STEP_KEYS = (
    "scope",
    "requests",
    "ok",
    "errors",
    "error_rate",
    "errors_by_class",
    "top_errors",
    "p50",
    "p90",
    "p95",
    "p99",
    "max",
    "offered_max",
    "goodput_max",
    "curve",
    "knee",
    "usl",
    "bottleneck",
    "collapse",
)
KNEE_KEYS = (
    "reached",
    "offered",
    "arrivals",
    "capacity",
    "capacity_is_lower_bound",
    "reason",
    "rule",
    "capacity_rule",
    "at_lowest_point",
    "max_offered",
    "max_arrivals",
    "generator_bound",
)
