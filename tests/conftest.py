"""Fixtures both trees use, and the `integration` marker.

tests/unit needs no server, no subprocess, no network; tests/integration starts real
servers and processes (its fixtures: tests/integration/conftest.py). Every test under
tests/integration is marked `integration`, so `pytest -m "not integration"` runs the unit
tests alone.

- `target_env`: AUTHSURGE_PASSWORD / AUTHSURGE_CLIENT_SECRET test values for the session
  (restored afterwards); its value holds them for tests that log in.
- `ramp_run`: the synthetic step ramp with planted capacities (tests/support/synth.py).
- `report_run`: the planted 30%-slower-login run with SLOs, a shortfall window and a
  command (tests/support/planted.py); `report_with_baseline`: its HTML report against the
  planted base run.
"""

from __future__ import annotations

# gevent must patch ssl before any test module imports requests/urllib3 (the suite's order
# made that so by chance; a subset such as tests/integration/target +
# tests/integration/faults hit RecursionError)
import locust  # noqa: F401, I001

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from authsurge.report.html_report import write_report
from authsurge.target import CLIENT_SECRET_ENV, PASSWORD_ENV
from tests.support.planted import copy_run, planted_run
from tests.support.synth import SynthRun, write_run
from tests.support.target import TargetSecrets

INTEGRATION = Path(__file__).parent / "integration"

# Property tests judge behaviour, not speed: a pause of the loaded CI machine must not fail
# them (hypothesis' default 200 ms deadline and its too-slow health check).
settings.register_profile("authsurge", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("authsurge")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test under tests/integration `integration` (registered in pyproject.toml)."""
    for item in items:
        if item.path.is_relative_to(INTEGRATION):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def target_env() -> Iterator[TargetSecrets]:
    secrets = TargetSecrets(password="pytest-surge-password", client_secret="pytest-surge-client-secret")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(PASSWORD_ENV, secrets.password)
        mp.setenv(CLIENT_SECRET_ENV, secrets.client_secret)
        yield secrets


@pytest.fixture(scope="session")
def ramp_run(tmp_path_factory: pytest.TempPathFactory) -> SynthRun:
    """Step ramp 10..100 journeys/s; login.submit planted at 50/s, login.form at 80/s, api.call healthy."""
    return write_run(tmp_path_factory.mktemp("runs") / "ramp")


# one breached (on the journey, so no step's knee rule changes), one met, one that names
# no step and so is not judged
SLOS = ["login_api error_rate < 1%", "api.call p95 < 100ms", "nosuch.step p95 < 5ms"]
SHORTFALL = [{"start": 1_700_000_120.0, "end": 1_700_000_121.0, "planned": 100, "started": 80,
              "dropped": 15, "late": 5, "max_lag_s": 0.4}]


@pytest.fixture(scope="session")
def report_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The planted 30%-slower-login run, with SLOs, a shortfall window and a command."""
    dest = tmp_path_factory.mktemp("report") / "20231114T221320Z-synthetic"
    meta_traffic = {"model": "open", "shape": "step_ramp", "arrivals": "poisson",
                    "planned_journeys": 9_000, "started_journeys": 8_900, "dropped_journeys": 83,
                    "shortfall": SHORTFALL, "on_schedule": False}
    return copy_run("slower_login", tmp_path_factory, dest, slos=SLOS, traffic=meta_traffic,
                    command="authsurge run scenarios/synthetic.yaml --set traffic.shape.rate=100",
                    target={"base_url": "http://127.0.0.1:8000", "version": "2.4.0", "pids": [1]})


@pytest.fixture(scope="module")
def report_with_baseline(report_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = planted_run("base", tmp_path_factory).path
    return write_report(report_run, tmp_path_factory.mktemp("out") / "compared.html", baseline=base)
