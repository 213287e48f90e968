"""People retry failed logins: attempts exceed unique people by the configured amount."""

from __future__ import annotations

from tests.support.runner import records, run_scenario

RETRY = """
journeys:
  web: {steps: [form_login]}
traffic:
  shape: {kind: steady, rate: 10}
  arrivals: uniform
behaviour:
  retry: {share: 0.5, max_attempts: 3, think: {kind: fixed, base_s: 0.3, jitter: 0}}
run: {duration_s: 8, drain_s: 3}
"""


def test_failed_logins_are_retried_by_the_configured_share_up_to_max_attempts(tmp_path, target, monkeypatch):
    monkeypatch.setenv("AUTHSURGE_PASSWORD", "not-the-password")  # every login is rejected
    result = run_scenario(tmp_path, target.base_url, RETRY)
    rows = records(result.run_dir)
    journeys = rows[rows["kind"] == "journey"]
    assert (journeys["outcome"] == "rejected").all()
    first = journeys[journeys["attempt"] == 1].set_index("person_id")["t_intended"]
    # people who arrived early enough for all their retries to fall inside the run
    early = first[first < result.meta["started_at"] + 6].index
    per_person = journeys[journeys["person_id"].isin(early)].groupby("person_id")["attempt"].agg(["max", "count"])
    assert len(per_person) >= 50
    # attempts are numbered 1..n without gaps; a retrier goes on to the last attempt, others stop at once
    assert (per_person["max"] == per_person["count"]).all()
    assert set(per_person["max"].unique()) == {1, 3}
    # expected attempts per person: 1 + share x (max_attempts - 1) = 2.0 (binomial noise: sd ~0.13)
    ratio = per_person["count"].mean()
    assert 1.6 <= ratio <= 2.4, ratio
    assert journeys["reason"].str.startswith("login.submit").all()


IMPATIENT = """
journeys:
  web: {steps: [form_login]}
traffic:
  shape: {kind: steady, rate: 20}
  arrivals: uniform
behaviour:
  retry: {share: 0.5, max_attempts: 2, think: {kind: fixed, base_s: 4, jitter: 0},
          impatient: {share: 0.5, min_s: 1, max_s: 2}}
run: {duration_s: 6, drain_s: 2}
"""


def test_impatient_people_retry_within_their_seconds_and_the_others_after_their_think_time(
        tmp_path, target, monkeypatch):
    monkeypatch.setenv("AUTHSURGE_PASSWORD", "not-the-password")  # every login is rejected
    result = run_scenario(tmp_path, target.base_url, IMPATIENT)
    rows = records(result.run_dir)
    journeys = rows[rows["kind"] == "journey"].set_index(["person_id", "attempt"])
    first, second = journeys.xs(1, level="attempt"), journeys.xs(2, level="attempt")
    # people early enough for a 4-s think time to fit before the run's end
    early = first[first["t_intended"] < result.meta["started_at"] + 1.5].index
    ended = first["t_intended"] + first["latency_ms"] / 1000
    gaps = (second["t_intended"] - ended).reindex(early)
    assert len(gaps) >= 25 and gaps.notna().all()  # everyone retried: the shares add up to 1
    impatient = gaps[gaps < 3]
    assert (impatient >= 1 - 0.05).all() and (impatient <= 2 + 0.2).all()
    assert (gaps[gaps >= 3] >= 4 - 0.05).all()
    assert 0.2 < len(impatient) / len(gaps) < 0.8  # half, binomial over 30 people
