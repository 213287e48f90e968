"""Passwords and client secrets never appear in events, logs, results or exception text."""

from __future__ import annotations

import logging

from authsurge.journeys import build_journeys, load_scenario_secrets
from tests.support.journeys import SERVICE_CLIENT, dot_oidc, harness, scenario


def test_no_secret_in_any_event_log_line_or_result(target, target_env, recorded, caplog):
    password, client_secret = target_env.password, target_env.client_secret
    oidc = dot_oidc(target.base_url, "surge-confidential")
    oidc["client"]["auth_method"] = "client_secret_post"  # the secret travels in the form body
    flows = {"oidc": oidc, "tokens": {"client_credentials": SERVICE_CLIENT,
                                      "introspection_client": SERVICE_CLIENT}}
    journeys = {
        "web": ["form_login", "api", "form_logout"],
        "sso": ["oidc_login", "token_refresh", "token_introspect", "userinfo", "api",
                "token_revoke", "oidc_logout"],
        "svc": ["client_credentials", "api"],
    }
    caplog.set_level(logging.DEBUG)
    s = scenario(target.base_url, journeys, flows)
    h = harness(recorded, s)
    texts = []
    for name in journeys:
        result = h.run(name)
        texts.append(repr(result))
    assert all("ok=True" in t for t in texts), texts
    # failures too: a wrong secret and a wrong password must not echo the right ones
    h_wrong = harness(recorded, s, environ={"AUTHSURGE_PASSWORD": password + "-wrong",
                                            "AUTHSURGE_CLIENT_SECRET": client_secret + "-wrong"})
    for name in journeys:
        texts.append(repr(h_wrong.run(name)))
    secrets = load_scenario_secrets(s)
    texts += [repr(secrets), str(secrets), repr(build_journeys(s, secrets)), repr(h.accounts.acquire())]
    texts += [repr(e) for e in recorded.events] + [str(e["exception"]) for e in recorded.events]
    texts.append(caplog.text)
    everything = "\n".join(texts)
    assert len(recorded.events) > 20
    for secret in (password, client_secret, password + "-wrong", client_secret + "-wrong"):
        assert secret not in everything
