"""Client CPU per journey: authsurge's journeys vs a straightforward `requests` version.

Starts the embedded target (its own processes), then runs the same two journeys with
both implementations, sequentially, in this process, and measures this process's CPU
(time.process_time) around N journeys of each:

  form:  GET login page, POST the form (CSRF), GET /api/me, POST logout      (4 requests)
  oidc:  authorize -> login page -> POST login -> authorize -> code, token
         exchange (PKCE), GET userinfo, RP-initiated logout                  (7 requests)

authsurge records every request (a listener on Locust's events.request that appends
to a list, as cheap as the real recorder's hot path); the requests version appends one
dict per request too. Rounds alternate between the two so drift hits both alike.
Target: authsurge spends at most 1/5 of the requests version's CPU per journey.

    python bench/bench_journeys.py [--journeys 200] [--rounds 4] [--json OUT]
"""

from __future__ import annotations  # noqa: I001 - gevent/locust sort first: they patch before ssl

from locust import events  # noqa: F401 - imported first: gevent patches before ssl/requests
import locust.event
from locust.env import Environment

import argparse
import base64
import hashlib
import json
import os
import secrets as pysecrets
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests

TARGET_RATIO = 0.2
PASSWORD = "bench-journeys-password"
REDIRECT_URI = "http://127.0.0.1/callback"
POST_LOGOUT_URI = "http://127.0.0.1/logged-out"


# --- the straightforward requests version -----------------------------------------------


class _FormParser(HTMLParser):
    """The first form with a password input: action, method and its input fields."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._current: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._current = {
                "action": a.get("action", ""),
                "method": a.get("method", "get"),
                "inputs": [],
            }
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None:
            self._current["inputs"].append(a)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def _login_form(html: str) -> dict[str, Any]:
    parser = _FormParser()
    parser.feed(html)
    for form in parser.forms:
        if any(i.get("type") == "password" for i in form["inputs"]):
            return form
    raise RuntimeError("no login form")


def _fill(form: dict[str, Any], username: str, password: str) -> dict[str, str]:
    data = {
        i["name"]: i.get("value", "")
        for i in form["inputs"]
        if i.get("name") and i.get("type", "text") not in ("submit", "button")
    }
    pw = next(i["name"] for i in form["inputs"] if i.get("type") == "password")
    user = [i["name"] for i in form["inputs"] if i.get("type", "text") in ("text", "email")][-1]
    data[user] = username
    data[pw] = password
    return data


class RequestsJourneys:
    def __init__(self, base: str, discovery: dict[str, Any], log: list[dict[str, Any]]) -> None:
        self.base = base
        self.doc = discovery
        self.log = log

    def _send(
        self, s: requests.Session, name: str, method: str, url: str, **kw: Any
    ) -> requests.Response:
        t0 = time.perf_counter()
        r = s.request(method, url, **kw)
        for h in [*r.history, r]:
            self.log.append(
                {
                    "name": name,
                    "method": h.request.method,
                    "status": h.status_code,
                    "ms": (time.perf_counter() - t0) * 1000,
                    "bytes": len(h.content),
                }
            )
        return r

    def form(self, username: str) -> None:
        with requests.Session() as s:
            url = self.base + "/accounts/login/"
            r = self._send(s, "login.form", "GET", url)
            form = _login_form(r.text)
            r = self._send(
                s,
                "login.submit",
                "POST",
                urljoin(r.url, form["action"]) if form["action"] else r.url,
                data=_fill(form, username, PASSWORD),
                allow_redirects=False,
                headers={"Referer": url},
            )
            assert r.status_code in (302, 303), r.status_code
            r = self._send(s, "api.call", "GET", self.base + "/api/me")
            assert r.status_code == 200
            r = self._send(
                s,
                "logout",
                "POST",
                self.base + "/accounts/logout/",
                data={"csrfmiddlewaretoken": s.cookies.get("csrftoken")},
                allow_redirects=False,
                headers={"Referer": url},
            )
            assert r.status_code in (200, 302), r.status_code

    def oidc(self, username: str) -> None:
        verifier = pysecrets.token_urlsafe(32)
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        state, nonce = pysecrets.token_urlsafe(16), pysecrets.token_urlsafe(16)
        with requests.Session() as s:
            query = urlencode(
                {
                    "response_type": "code",
                    "client_id": "surge-public",
                    "redirect_uri": REDIRECT_URI,
                    "scope": "openid profile",
                    "state": state,
                    "nonce": nonce,
                    "code_challenge": challenge,
                    "code_challenge_method": "S256",
                }
            )
            r = self._send(
                s, "oidc.authorize", "GET", self.doc["authorization_endpoint"] + "?" + query
            )
            form = _login_form(r.text)
            r = self._send(
                s,
                "oidc.login_submit",
                "POST",
                urljoin(r.url, form["action"]) if form["action"] else r.url,
                data=_fill(form, username, PASSWORD),
                allow_redirects=False,
                headers={"Referer": r.url},
            )
            location = urljoin(r.url, r.headers["location"])
            while not location.startswith(REDIRECT_URI):
                r = self._send(s, "oidc.authorize", "GET", location, allow_redirects=False)
                location = urljoin(r.url, r.headers["location"])
            params = parse_qs(urlsplit(location).query)
            assert params["state"][0] == state
            r = self._send(
                s,
                "oidc.token",
                "POST",
                self.doc["token_endpoint"],
                data={
                    "grant_type": "authorization_code",
                    "code": params["code"][0],
                    "redirect_uri": REDIRECT_URI,
                    "code_verifier": verifier,
                    "client_id": "surge-public",
                },
            )
            tokens = r.json()
            assert tokens["token_type"].lower() == "bearer"
            r = self._send(
                s,
                "oidc.userinfo",
                "GET",
                self.doc["userinfo_endpoint"],
                headers={"Authorization": "Bearer " + tokens["access_token"]},
            )
            assert "sub" in r.json()
            r = self._send(
                s,
                "oidc.logout",
                "GET",
                self.doc["end_session_endpoint"]
                + "?"
                + urlencode(
                    {
                        "id_token_hint": tokens["id_token"],
                        "client_id": "surge-public",
                        "post_logout_redirect_uri": POST_LOGOUT_URI,
                        "state": state,
                    }
                ),
                allow_redirects=False,
            )
            assert r.status_code == 302, r.status_code


# --- the measurement --------------------------------------------------------------------


def measure(fn: Any, users: list[str], n: int) -> float:
    """CPU ms per call of fn(username) over n sequential calls."""
    started = time.process_time()
    for i in range(n):
        fn(users[i % len(users)])
    return (time.process_time() - started) * 1000 / n


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--journeys", type=int, default=200, help="journeys per flow and implementation"
    )
    parser.add_argument("--rounds", type=int, default=4, help="alternating measurement rounds")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    os.environ["AUTHSURGE_PASSWORD"] = PASSWORD
    os.environ.setdefault("AUTHSURGE_CLIENT_SECRET", "bench-journeys-client-secret")

    from authsurge.journeys import (
        AccountPool,
        JourneyContext,
        build_journeys,
        load_scenario_secrets,
    )
    from authsurge.scenario import Scenario
    from authsurge.target import TargetOptions, running_target

    work = Path(tempfile.mkdtemp(prefix="authsurge-bench-journeys-"))
    options = TargetOptions(
        port=0, workers=2, threads=4, users=20, hasher_iterations=1000, data_dir=work / "target"
    )
    with running_target(options) as target:
        base = target.base_url
        scenario = Scenario.model_validate(
            {
                "name": "bench_journeys",
                "target": {"base_url": base},
                "credentials": {"count": 20},
                "flows": {
                    "oidc": {
                        "issuer": base + "/o",
                        "client": {"client_id": "surge-public"},
                        "redirect_uri": REDIRECT_URI,
                        "post_logout_redirect_uri": POST_LOGOUT_URI,
                        "expect_refresh_token": True,
                    }
                },
                "journeys": {
                    "form": {"steps": ["form_login", "api", "form_logout"]},
                    "oidc": {"steps": ["oidc_login", "userinfo", "oidc_logout"]},
                },
                "traffic": {"model": "closed", "closed": {"users": 1}},
            }
        )
        secrets = load_scenario_secrets(scenario)
        journeys = build_journeys(scenario, secrets)
        pool = AccountPool(scenario.credentials, secrets.password)
        env = Environment(events=locust.event.Events())
        recorded: list[dict[str, Any]] = []
        env.events.request.add_listener(lambda **kw: recorded.append(kw))
        failures: list[str] = []
        seq = iter(range(10**9))

        def harness(name: str) -> Any:
            journey = journeys[name]

            def run(_user: str) -> None:
                account = pool.acquire()
                ctx = JourneyContext(
                    environment=env,
                    base_url=base,
                    account=account,
                    journey=name,
                    journey_id=f"j{next(seq)}",
                    person_id="p",
                    attempt=1,
                    t_intended=time.time(),
                    worker="bench",
                )
                result = journey.run(ctx)
                pool.release(account)
                if not result.ok:
                    failures.append(f"authsurge {name}: {result.step}: {result.reason}")

            return run

        doc = requests.get(base + "/o/.well-known/openid-configuration", timeout=10).json()
        baseline_log: list[dict[str, Any]] = []
        baseline = RequestsJourneys(base, doc, baseline_log)
        users = [f"user{n:04d}" for n in range(1, 21)]

        def checked(fn: Any) -> Any:
            def run(user: str) -> None:
                try:
                    fn(user)
                except Exception as exc:  # a broken baseline must not pass for a fast one
                    failures.append(f"requests: {type(exc).__name__}: {exc}")

            return run

        impls = {
            ("form", "authsurge"): harness("form"),
            ("oidc", "authsurge"): harness("oidc"),
            ("form", "requests"): checked(baseline.form),
            ("oidc", "requests"): checked(baseline.oidc),
        }
        for fn in impls.values():  # warm-up: imports, discovery, connections, caches
            for user in users[:5]:
                fn(user)
        cpu: dict[tuple[str, str], list[float]] = {key: [] for key in impls}
        per_round = max(1, args.journeys // args.rounds)
        for _ in range(args.rounds):
            for key, fn in impls.items():
                recorded.clear()
                baseline_log.clear()
                cpu[key].append(measure(fn, users, per_round))
                if key[1] == "authsurge":
                    expected = per_round * (4 if key[0] == "form" else 7)
                    if len(recorded) != expected:
                        failures.append(
                            f"authsurge {key[0]}: {len(recorded)} request events, expected {expected}"
                        )
    if failures:
        print("FAILED:", *sorted(set(failures))[:10], sep="\n  ")
        return 1
    rows = []
    print(
        f"client CPU per journey, {args.rounds} x {per_round} sequential journeys each (median of rounds)"
    )
    print(
        f"{'journey':8} {'authsurge ms':>13} {'requests ms':>12} {'ratio':>7}  target <= {TARGET_RATIO}"
    )
    for flow in ("form", "oidc"):
        ours = sorted(cpu[(flow, "authsurge")])[len(cpu[(flow, "authsurge")]) // 2]
        theirs = sorted(cpu[(flow, "requests")])[len(cpu[(flow, "requests")]) // 2]
        ratio = ours / theirs
        print(
            f"{flow:8} {ours:13.2f} {theirs:12.2f} {ratio:7.3f}  {'meets' if ratio <= TARGET_RATIO else 'MISSES'}"
        )
        rows += [
            {
                "metric": f"{flow}_cpu_ms_authsurge",
                "value": round(ours, 3),
                "unit": "ms/journey",
                "target": "",
                "meets_target": None,
            },
            {
                "metric": f"{flow}_cpu_ms_requests",
                "value": round(theirs, 3),
                "unit": "ms/journey",
                "target": "",
                "meets_target": None,
            },
            {
                "metric": f"{flow}_cpu_ratio",
                "value": round(ratio, 3),
                "unit": "authsurge/requests",
                "target": f"<= {TARGET_RATIO}",
                "meets_target": ratio <= TARGET_RATIO,
            },
        ]
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "benchmark": "journeys",
                    "rows": rows,
                    "rounds": {f"{k[0]}/{k[1]}": v for k, v in cpu.items()},
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
