"""Retry-After on the embedded target's 503s: honoured, a person's next attempt waits at
least that long; ignored, it comes at once."""

from __future__ import annotations

import pandas as pd

from tests.support.runner import records, run_scenario

SURGE = """
journeys:
  web: {{steps: [form_login]}}
traffic:
  shape: {{kind: steady, rate: 8}}
  arrivals: uniform
behaviour:
  retry: {{share: 1.0, max_attempts: 2, think: {{kind: immediate}}, retry_after: {mode}}}
run: {{duration_s: 4, drain_s: 3}}
"""


def gaps(run_dir) -> pd.Series:
    """Seconds between the end of a person's first attempt, refused with a 503 (the answer
    that carries Retry-After), and the start of their second."""
    rows = records(run_dir)
    journeys = rows[rows["kind"] == "journey"].set_index(["person_id", "attempt"])
    first = journeys.xs(1, level="attempt")
    # a first attempt can fail otherwise (CI once saw a rejected login): no Retry-After there
    first = first[first["reason"].str.contains("503", regex=False)]
    second = journeys.xs(2, level="attempt")
    ended = first["t_intended"] + first["latency_ms"] / 1000
    second = second[second.index.isin(first.index)]
    return (second["t_intended"] - ended.loc[second.index]).dropna()


def test_retry_after_is_waited_for_when_honoured_and_not_when_ignored(tmp_path, target_factory) -> None:
    # 2 password checks a second and no queue: the rest get 503 with Retry-After: 1 at once
    busy = target_factory(login_capacity=2, login_queue=0, threads=8)
    honoured = gaps(run_scenario(tmp_path / "honour", busy.base_url, SURGE.format(mode="honour")).run_dir)
    ignored = gaps(run_scenario(tmp_path / "ignore", busy.base_url, SURGE.format(mode="ignore")).run_dir)
    assert len(honoured) >= 10 and len(ignored) >= 10
    assert honoured.min() >= 1.0 - 0.05  # the header says 1 s (max(1, the next slot's wait))
    assert ignored.median() < 0.2
