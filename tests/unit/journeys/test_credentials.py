"""Accounts (pattern or CSV, worker slices, distinct while in use) and scenario secrets."""

from __future__ import annotations

import pytest

from authsurge.errors import BadInput
from authsurge.journeys import AccountPool, load_scenario_secrets
from authsurge.journeys.credentials import usernames
from authsurge.scenario import CredentialsConfig
from authsurge.secret import Secret
from tests.support.journeys import SERVICE_CLIENT, dot_oidc, scenario

PW = Secret("pw", "test")


def test_pattern_accounts_are_distinct_while_in_use():
    pool = AccountPool(CredentialsConfig(pattern="u{n:03d}", first=5, count=3), PW)
    held = [pool.acquire() for _ in range(3)]
    assert [a.username for a in held] == ["u005", "u006", "u007"]
    assert pool.acquire() is None  # the runner counts a drop
    pool.release(held[1])
    pool.release(held[1])  # a double release must not hand the account out twice
    assert pool.acquire().username == "u006"
    assert pool.acquire() is None


def test_released_accounts_go_to_the_back_of_the_queue():
    pool = AccountPool(CredentialsConfig(count=3), PW)
    first = pool.acquire()
    pool.release(first)
    assert [pool.acquire().username for _ in range(3)] == ["user0002", "user0003", "user0001"]


def test_workers_take_disjoint_slices_that_cover_all_accounts():
    creds = CredentialsConfig(count=10)
    slices = []
    for w in range(3):
        pool = AccountPool(creds, PW, worker_index=w, worker_count=3)
        slices.append({pool.acquire().username for _ in range(pool.size)})
    assert sum(len(s) for s in slices) == 10
    assert set().union(*slices) == set(usernames(creds))


def test_usernames_from_the_first_csv_column_skip_a_header_and_duplicates(tmp_path):
    (tmp_path / "users.csv").write_text("username,team\nalice,a\n\nbob,b\n carol ,c\nalice,d\n",
                                        encoding="utf-8")
    creds = CredentialsConfig(csv="users.csv")
    assert usernames(creds, tmp_path) == ["alice", "bob", "carol"]


def test_missing_or_empty_csv_is_bad_input(tmp_path):
    with pytest.raises(BadInput, match="cannot read it"):
        usernames(CredentialsConfig(csv=tmp_path / "nope.csv"))
    (tmp_path / "empty.csv").write_text("username\n", encoding="utf-8")
    with pytest.raises(BadInput, match="no usernames"):
        usernames(CredentialsConfig(csv=tmp_path / "empty.csv"))


def test_account_repr_hides_the_password():
    account = AccountPool(CredentialsConfig(count=1), Secret("hunter2", "env X")).acquire()
    assert "hunter2" not in repr(account) and "hunter2" not in str(account)


def test_secrets_are_loaded_only_for_what_the_journeys_use():
    base = "http://127.0.0.1:8000"
    flows = {"oidc": dot_oidc(base, "surge-confidential"), "tokens": {"client_credentials": SERVICE_CLIENT}}
    s = scenario(base, {"svc": ["client_credentials", "api"]}, flows)
    found = load_scenario_secrets(s, {"AUTHSURGE_CLIENT_SECRET": "s3"})
    assert found.password is None  # nobody types a password
    assert set(found.clients) == {"surge-service"}
    s = scenario(base, {"sso": ["oidc_login"]}, flows)
    found = load_scenario_secrets(s, {"AUTHSURGE_CLIENT_SECRET": "s3", "AUTHSURGE_PASSWORD": "pw"})
    assert found.password.reveal() == "pw" and set(found.clients) == {"surge-confidential"}


def test_a_missing_password_is_bad_input_naming_the_variable():
    s = scenario("http://127.0.0.1:8000", {"w": ["form_login"]})
    with pytest.raises(BadInput, match="AUTHSURGE_PASSWORD is not set"):
        load_scenario_secrets(s, {})


def test_password_file_is_relative_to_the_scenario(tmp_path):
    (tmp_path / "pw.txt").write_text("from-file\n", encoding="utf-8")
    s = scenario("http://127.0.0.1:8000", {"w": ["form_login"]},
                 credentials={"password_file": "pw.txt"})
    s.source = tmp_path / "scenario.yaml"
    assert load_scenario_secrets(s, {}).password.reveal() == "from-file"
