"""The signed-in population on the embedded target: a warm-up before the clock, API use
while the surge's sign-ins fail, token refresh, and re-login after a 401.

Two real runs, each shared by the tests of its kind:
- `limited`: the target checks at most 4 passwords a second (no queue: the rest get 503)
  and its access tokens live 3 s. 8 people sign in by OIDC in a 4-s warm-up, then call the
  API twice a second each for 12 s, while a surge of 12 web sign-ins a second fails on
  login.submit;
- `expiring`: sessions live 3 s. 6 people sign in by form, call the API twice a second,
  and sign in again when it answers 401; half the surge's people who sign in (1 a
  second) stay signed in and join them.
"""

from __future__ import annotations

import math
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from authsurge.analysis import analyze_run
from authsurge.cli import main
from authsurge.rundir import read_meta
from authsurge.target import TargetOptions, start_target
from tests.support.runner import run_scenario
from tests.support.target import TEST_HASHER_ITERATIONS, seed_data_dir

OIDC = """
flows:
  oidc:
    issuer: /o
    client: {client_id: surge-public}
    redirect_uri: http://127.0.0.1/callback
    expect_refresh_token: true
"""

LIMITED = OIDC + """
credentials: {count: 40}
journeys:
  web: {steps: [form_login, api, form_logout]}
  app: {steps: [oidc_login]}
traffic:
  mix: {web: 1}
  shape: {kind: steady, rate: 12}
  arrivals: uniform
population:
  size: 8
  sign_in: app
  warmup: {rate: 2, seconds: 5}  # half the password limit: none refused
  api_rate: 2
run: {duration_s: 12, drain_s: 2}
"""

EXPIRING = """
credentials: {count: 20}
journeys:
  web: {steps: [form_login, api, form_logout]}
  signed_in: {steps: [form_login]}
traffic:
  mix: {web: 1}
  shape: {kind: steady, rate: 1}
  arrivals: uniform
population:
  size: 6
  sign_in: signed_in
  warmup: {rate: 6, seconds: 2}
  api_rate: 2
  on_401: relogin
  join_share: 0.5
run: {duration_s: 10, drain_s: 2}
"""


def target_run(tmp: Path, seed_from: Path, body: str, **options: object) -> Path:
    data_dir = tmp / "target"
    data_dir.mkdir()
    seed_data_dir(seed_from, data_dir)
    proc = start_target(
        TargetOptions(port=0, data_dir=data_dir, users=50, workers=1, threads=8,
                      hasher_iterations=TEST_HASHER_ITERATIONS, **options),  # type: ignore[arg-type]
        log=lambda line: None,
    )
    try:
        result = run_scenario(tmp, proc.base_url, body, pids=[proc.pid])
    finally:
        proc.stop()
    assert result.status == "complete", result
    return Path(result.run_dir)


@pytest.fixture(scope="module")
def limited(target, target_env, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: ANN001
    return target_run(tmp_path_factory.mktemp("population-limited"), target.data_dir, LIMITED,
                      login_capacity=4, login_queue=0, token_lifetime_s=3)


@pytest.fixture(scope="module")
def expiring(target, target_env, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: ANN001
    return target_run(tmp_path_factory.mktemp("population-expiring"), target.data_dir, EXPIRING,
                      session_age_s=3)


def rows(run_dir: Path):  # noqa: ANN201
    return pq.read_table(run_dir / "requests").to_pandas()


def test_warm_up_signs_everyone_in_before_the_clock_and_its_rows_stay_out_of_the_curves(limited: Path) -> None:
    meta = read_meta(limited)
    assert meta.format_version == 2 and meta.population is not None
    assert meta.population.signed_in_at_start == 8  # 2/s, 4 s: all before the clock
    records = rows(limited)
    warmup = records[records["cohort"] == "warmup"]
    assert len(warmup) >= 8 and (warmup["t_start"] < meta.started_at).all()
    assert set(warmup["step"]) >= {"warmup:oidc.authorize", "warmup:oidc.token"}
    with analyze_run(limited) as analysis:
        doc = analysis.to_json()
    names = set(doc["steps"]) | set(doc["journeys"]) | {e["step"] for e in doc["first_to_fail"]}
    assert not [n for n in names if n.startswith("warmup:")], names
    assert doc["population"]["windows"][0]["signed_in"] == 8


def test_the_population_api_is_measured_apart_from_the_failing_surge_sign_ins(limited: Path) -> None:
    with analyze_run(limited) as analysis:
        doc = analysis.to_json()
    population = doc["population"]
    # the surge's sign-ins fail on the password limit; the signed-in people's API stays up
    assert population["surge_sign_in"]["step"] == "login.submit"
    assert population["surge_sign_in"]["error_rate"] > 0.3, population["surge_sign_in"]
    assert population["api"]["steps"] == ["population:api.call"]
    assert population["api"]["error_rate"] < 0.02, population["api"]
    # the surge's own API calls are their own step
    assert doc["steps"]["api.call"]["requests"] > 0
    assert "population:api.call" not in {e["step"] for e in doc["first_to_fail"]}
    assert doc["first_to_fail"][0]["step"] == "login.submit"
    # Poisson at 2/s per person, 8 people, 12 s: 192 expected, 3 sigma is +/- 42
    expected = 8 * 2 * 12
    assert abs(population["api"]["requests"] - expected) < 3 * math.sqrt(expected) + 5
    text = analysis.summary_text()
    assert "Signed-in population: 8 before the surge" in text and "population:api.call" in text


def test_expiring_tokens_are_refreshed_and_the_calls_after_them_succeed(limited: Path) -> None:
    records = rows(limited)
    refresh = records[records["step"] == "population:token.refresh"]
    # 3-s tokens, refreshed a tenth early, over 12 s: at least 3 per person
    assert len(refresh) >= 3 * 8 and (refresh["outcome"] == "ok").all()
    events = records[(records["kind"] == "event") & (records["step"] == "refreshed")]
    assert len(events) == len(refresh)
    api = records[records["step"] == "population:api.call"]
    after = api[api["t_start"] > refresh["t_start"].min()]
    assert len(after) > 50 and (after["outcome"] == "ok").mean() > 0.98
    with analyze_run(limited) as analysis:
        population = analysis.to_json()["population"]
    assert population["refreshes"] == len(refresh) and population["relogins"] == 0


def test_an_expired_session_answers_401_and_the_person_signs_in_again(expiring: Path) -> None:
    records = rows(expiring)
    api = records[records["step"] == "population:api.call"]
    unauthorised = api[api["status"] == 401]
    relogins = records[(records["kind"] == "event") & (records["step"] == "relogin")]
    assert len(unauthorised) >= 6 and len(relogins) == len(unauthorised)
    # every re-login is a new password check of the population's own
    submits = records[records["step"] == "population:login.submit"]
    people = records.loc[records["step"] == "population:api.call", "person_id"].nunique()
    assert (submits["outcome"] == "ok").sum() >= len(relogins) - people  # the last may not finish
    after = api[api["t_start"] > relogins["t_start"].min()]
    assert (after["outcome"] == "ok").sum() > 20  # signed in again, the calls succeed
    with analyze_run(expiring) as analysis:
        population = analysis.to_json()["population"]
    assert population["relogins"] == len(relogins)
    assert population["why"]["relogin: 401 on the API"] == len(relogins)
    assert population["refreshes"] == 0  # a session cookie: nothing to refresh


def test_surge_people_who_stay_signed_in_join_the_population(expiring: Path) -> None:
    joined = read_meta(expiring).population.joined  # type: ignore[union-attr]
    records = rows(expiring)
    journeys = records[(records["kind"] == "journey") & (records["cohort"] == "surge")]
    signed_in = journeys[journeys["outcome"] == "ok"]
    # half of about 10 successful sign-ins: binomial, 1 to 9 with probability > 0.99
    assert 0 < joined < len(signed_in), (joined, len(signed_in))
    members = set(records.loc[records["step"] == "population:api.call", "person_id"])
    joiners = members & set(signed_in["person_id"])
    assert joined - 2 <= len(joiners) <= joined  # one who joined in the last second may not call
    stayed = records[records["person_id"].isin(joiners)]
    assert not (stayed["step"] == "logout").any()  # they stayed signed in
    assert set(stayed.loc[stayed["cohort"] == "population", "journey"]) >= {"population:web"}


def test_analyze_report_and_summary_say_how_the_signed_in_people_fared(limited: Path, tmp_path: Path,
                                                                        capsys) -> None:  # noqa: ANN001
    import shutil

    run_dir = tmp_path / "run"
    shutil.copytree(limited, run_dir)  # the commands write beside the records
    assert main(["analyze", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert "Signed-in population: 8 before the surge" in out and "while the surge's login.submit had" in out
    assert main(["report", str(run_dir)]) == 0
    html = (run_dir / "report.html").read_text()
    assert "signed-in API errors" in html and "population:api.call" in html
    assert main(["report", "--summary", str(run_dir)]) == 0
    summary = (run_dir / "summary.md").read_text()
    assert "people who were already signed in" in summary and "(login.submit)" in summary
