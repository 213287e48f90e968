"""The app sign-ins' pieces with known answers: TOTP codes (RFC 6238's own test vector),
the code period and its reuse, JSON paths and rules, and the TOTP secrets file."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from authsurge.errors import BadInput
from authsurge.journeys import AccountPools, load_scenario_secrets, totp
from authsurge.journeys.json_login import MISSING, error_code, json_at, rule_failures
from authsurge.journeys.totp import Totp, totp_code
from authsurge.scenario import JsonRule, Scenario, TotpSettings
from authsurge.secret import Secret
from tests.support.journeys import scenario

# RFC 6238 appendix B: the SHA1 seed is the ASCII of "12345678901234567890"
RFC_SEED = Secret(base64.b32encode(b"12345678901234567890").decode(), "test")


@pytest.mark.parametrize(("unix_time", "code"), [(59, "94287082"), (1111111109, "07081804"),
                                                 (2000000000, "69279037")])
def test_codes_match_rfc_6238s_test_vectors(unix_time, code):
    settings = TotpSettings(digits=8)
    assert totp_code(RFC_SEED, unix_time // 30, settings).reveal() == code


def test_a_code_is_a_secret():
    code = totp_code(RFC_SEED, 1, TotpSettings())
    assert code.reveal() not in repr(code) and code.reveal() not in f"{code}"


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_an_account_that_used_this_periods_code_waits_for_the_next(monkeypatch):
    clock = Clock(1000 * 30 + 10.0)  # 20 s before the next period
    slept: list[float] = []
    monkeypatch.setattr(totp.gevent, "sleep", lambda s: (slept.append(s), setattr(clock, "t", clock.t + s)))
    monkeypatch.setattr(totp, "SENT", {})
    step = Totp(TotpSettings(reuse="wait"), {}, clock=clock)
    assert step.period("a") == (1000, False)
    assert step.period("b") == (1000, False)  # another account: its own code
    assert step.period("a") == (1001, False)  # waited
    assert slept == [pytest.approx(20.05)]


def test_with_reuse_send_the_code_goes_again_and_is_marked_reused(monkeypatch):
    monkeypatch.setattr(totp, "SENT", {})
    clock = Clock(30 * 7 + 1.0)
    step = Totp(TotpSettings(reuse="send"), {}, clock=clock)
    assert step.period("a") == (7, False)
    assert step.period("a") == (7, True)
    clock.t += 30
    assert step.period("a") == (8, False)


DATA: dict[str, Any] = {"meta": {"is_authenticated": True, "session_token": "s", "n": 1},
                        "data": {"flows": [{"id": "login"}, {"id": "mfa_authenticate"}]},
                        "errors": [{"code": "incorrect_code", "message": "free text <b>"}]}


def test_json_paths_take_keys_and_list_indices():
    assert json_at(DATA, "meta.session_token") == "s"
    assert json_at(DATA, "data.flows.1.id") == "mfa_authenticate"
    assert json_at(DATA, "data.flows.2.id") is MISSING
    assert json_at(DATA, "meta.session_token.x") is MISSING
    assert error_code(DATA) == "incorrect_code"
    assert error_code({"errors": [{"code": "no plain code!"}]}) is None  # server text is never echoed


class Answer:
    def __init__(self, status: int) -> None:
        self.status = status


def test_a_json_rule_checks_the_status_and_the_fields_value_and_type():
    ok = JsonRule(status=[200], json_path="meta.is_authenticated", json_equals=True)
    assert rule_failures(ok, Answer(200), DATA) == []  # type: ignore[arg-type]
    assert rule_failures(ok, Answer(401), DATA) == ["status 401, expected 200"]  # type: ignore[arg-type]
    one = JsonRule(json_path="meta.n", json_equals=True)  # 1 is not true in JSON
    assert rule_failures(one, Answer(200), DATA) == ["meta.n is not true"]  # type: ignore[arg-type]
    present = JsonRule(json_path="meta.token")
    assert rule_failures(present, Answer(200), DATA) == ["no meta.token in the answer"]  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="JSON path"):
        JsonRule(json_path="meta..x")


def totp_scenario(tmp_path, text: str | None, **credentials: Any):
    file = tmp_path / "totp.csv"
    if text is not None:
        file.write_text(text)
    creds = {"pattern": "mfa{n:04d}", "count": 2, "totp_file": str(file), **credentials}
    return scenario("http://127.0.0.1:8000", {"app": ["json_login", "totp"]}, credentials=creds)


SEED_A, SEED_B = base64.b32encode(b"a" * 20).decode(), base64.b32encode(b"b" * 20).decode()


def test_totp_secrets_come_from_the_file_by_username(tmp_path):
    s = totp_scenario(tmp_path, f"username,totp_secret\nmfa0001,{SEED_A}\nmfa0002,{SEED_B}\n")
    secrets = load_scenario_secrets(s, {"AUTHSURGE_PASSWORD": "pw"})
    assert secrets.totp["mfa0002"].reveal() == SEED_B
    assert SEED_A not in repr(secrets)


@pytest.mark.parametrize(("text", "message"), [
    (None, "cannot read it"),
    (f"user,secret\nmfa0001,{SEED_A}\n", "first row must be username,totp_secret"),
    (f"username,totp_secret\nmfa0001,{SEED_A}\n", "no TOTP secret for 1 account"),
    (f"username,totp_secret\nmfa0001,{SEED_A}\nmfa0002,not-base32!\n", "not base32"),
])
def test_a_bad_totp_file_is_bad_input_that_shows_no_secret(tmp_path, text, message):
    s = totp_scenario(tmp_path, text)
    with pytest.raises(BadInput, match=message) as caught:
        load_scenario_secrets(s, {"AUTHSURGE_PASSWORD": "pw"})
    assert SEED_A not in str(caught.value)


def test_a_journey_with_its_own_accounts_takes_them_and_gives_them_back(tmp_path):
    s = Scenario.model_validate({
        "name": "own-accounts", "credentials": {"pattern": "user{n:04d}", "count": 2},
        "journeys": {"web": {"steps": ["json_login"]},
                     "mfa": {"steps": ["json_login", "totp"],
                             "accounts": {"pattern": "mfa{n:04d}", "count": 1, "totp_file": "x.csv"}}},
        "traffic": {"model": "closed", "closed": {"users": 1}}})
    assert s.accounts_of("mfa").pattern == "mfa{n:04d}" and s.accounts_of("web") is s.credentials
    pools = AccountPools(s, Secret("pw", "test"), ["web", "mfa"])
    mfa = pools.acquire("mfa")
    assert mfa is not None and mfa.username == "mfa0001" and pools.acquire("mfa") is None
    assert pools.acquire("web").username == "user0001"  # type: ignore[union-attr]
    pools.release(mfa)
    assert pools.acquire("mfa").username == "mfa0001"  # type: ignore[union-attr]
    assert pools.of("web").in_use == 1
