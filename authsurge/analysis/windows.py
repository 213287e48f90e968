"""Per step and per time window: offered load, goodput, errors, latency percentiles, concurrency.

Each record belongs to one *series*: a request step (``login.submit``) for kind="request"
rows, or a journey (by name) for kind="journey" and kind="dropped" rows. A journey whose
name is also a step name is called ``journey:<name>``.

Which window a record counts in (``window_s`` from meta.analysis, default 1 s):

- offered load: the window where it *arrived*: t_start for requests, t_intended for
  journeys and dropped arrivals (the open model's planned arrival time).
- goodput, errors and latency: the window where it *completed*: t_start + latency for
  requests, t_intended + latency for journeys (their latency counts from t_intended).
  Completion time is what makes goodput a throughput: when the target queues, completions
  per second stay at its capacity while arrivals keep rising.
- latency percentiles (linear interpolation, as numpy) are over every record with a
  latency, failures included (as Locust reports them); dropped arrivals have none.
  Latencies are resolved to 0.1 us (LATENCY_QUANTUM_MS) first.
- concurrency: the time-average number of records in flight (t_start to completion) in the
  window, from the exact overlap of the intervals with the window.

The table is computed by the engine from the shards (record_index.RecordIndex: the
counts in record_counts, the percentiles in latencies); this module holds the rules'
constants and the helpers that read the table.
"""

from __future__ import annotations

from typing import Protocol

import pandas as pd

QUANTILES = (0.50, 0.90, 0.95, 0.99)
# latencies are resolved to 0.1 us before percentiles are taken
LATENCY_QUANTUM_MS = 1e-4
PERCENTILE_COLUMNS = ("p50", "p90", "p95", "p99", "max")
SCOPE_REQUEST = "request"
SCOPE_JOURNEY = "journey"


# Records this far outside the run are clock garbage; kept, they would make millions of windows.
MAX_EARLY_S = 600.0  # arrived before started_at
MAX_LATE_S = 3600.0  # arrived after ended_at
MAX_LATENCY_S = 3600.0
MAX_RUN_S = 24 * 3600.0  # run.duration_s is bounded at 24 h: the bound when ended_at is unknown


class WindowGrid(Protocol):
    """What reading the table needs of the run's index (record_index.RecordIndex)."""

    @property
    def n_windows(self) -> int: ...

    def series_of(self, name: str) -> int: ...


def series_rows(windows: pd.DataFrame, index: WindowGrid, series: str) -> pd.DataFrame:
    """One series' rows of the windows table (series-major: one row per window)."""
    s = index.series_of(series)
    return windows.iloc[s * index.n_windows : (s + 1) * index.n_windows]


def error_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith("err_")]
