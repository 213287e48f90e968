"""`journeys.<name>.abandon_after`: people who leave right after one request (e.g. open the
login page and go), so a mix can vary `login.form` independently of `login.submit`.
Here, the names it accepts; what such people do against the target:
tests/integration/journeys/test_abandon.py."""

from __future__ import annotations

import pytest

from authsurge.cli import main
from authsurge.errors import BadInput, ExitStatus, ScenarioError
from authsurge.journeys import compose, load_scenario_secrets
from authsurge.scenario import FlowSettings
from tests.support.journeys import ABANDON_MIXED as MIXED
from tests.support.journeys import parse_abandon as parse
from tests.support.runner import scenario_text


def test_an_unknown_step_name_is_rejected_naming_the_option_and_the_known_names():
    body = MIXED.replace("abandon_after: login.form", "abandon_after: login.frm")
    with pytest.raises(ScenarioError) as err:
        parse("http://127.0.0.1:8000", body)
    message = str(err.value)
    assert "abandon.yaml:5: journeys.browse.abandon_after:" in message
    assert "'login.frm'" in message and "known: login.form, login.submit" in message


@pytest.mark.parametrize(
    "name",
    [
        "oidc.token",  # oidc_login's, not in this journey
        "api.call",  # api's, not in this journey
        "logout",  # form_logout's, not in this journey
        "oidc.discovery",  # cached per journey, not per person: nobody leaves after it
    ],
)
def test_a_step_name_of_a_group_outside_the_journey_is_rejected(name):
    body = MIXED.replace("abandon_after: login.form", f"abandon_after: {name}")
    with pytest.raises(ScenarioError, match=r"journeys\.browse\.abandon_after: .* not a request"):
        parse("http://127.0.0.1:8000", body)


def test_names_that_depend_on_the_flow_settings():
    base = "http://127.0.0.1:8000"
    api = "flows:\n  api: {endpoints: [{path: /api/me, name: api.me}]}\n"
    custom = MIXED.replace(
        "[form_login], abandon_after: login.form", "[api], abandon_after: api.me"
    )
    assert parse(base, custom + api).journeys["browse"].abandon_after == "api.me"
    with pytest.raises(ScenarioError, match="known: api.me"):
        parse(base, custom.replace("api.me", "api.call") + api)
    logout = MIXED.replace(
        "[form_login], abandon_after: login.form",
        "[form_login, form_logout], abandon_after: logout.form",
    )
    with pytest.raises(ScenarioError, match="known: login.form, login.submit, logout$"):
        parse(base, logout)  # logout.form is only requested with csrf_page
    page = "flows:\n  form_logout: {csrf_page: /accounts/profile/}\n"
    assert parse(base, logout + page).journeys["browse"].abandon_after == "logout.form"


def test_compose_checks_the_name_too(target_env):
    secrets = load_scenario_secrets(parse("http://127.0.0.1:8000", MIXED))
    with pytest.raises(BadInput, match="abandon_after 'oidc.token'"):
        compose("b", ["form_login"], FlowSettings(), secrets, abandon_after="oidc.token")
    assert compose("b", ["form_login"], FlowSettings(), secrets).abandon_after is None


def test_the_cli_exits_2_with_the_message(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    text = scenario_text("http://127.0.0.1:8000", MIXED.replace("login.form}", "oidc.token}"))
    path.write_text(text)
    assert main(["validate", str(path)]) == ExitStatus.BAD_INPUT
    out = capsys.readouterr()
    assert "journeys.browse.abandon_after" in out.out + out.err
