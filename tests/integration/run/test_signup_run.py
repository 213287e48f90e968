"""A run of new and returning people against the embedded target with --signup, through
`authsurge run --analyze` and `authsurge report`: the run starts its own mail sink where
the target sends its mail, every sign-up step group is measured like any other step, and
no e-mailed link or code and no generated password reaches any file of the run, the
report, the terminal, the logs or the target's log."""

from __future__ import annotations

import json
import logging
import re

import pytest

from authsurge.analysis import analyze_run
from authsurge.cli import main
from authsurge.rundir import records as record
from authsurge.target import TargetOptions, start_target
from tests.support.journeys import free_port
from tests.support.runner import records
from tests.support.target import TEST_HASHER_ITERATIONS, seed_data_dir

NEW_STEPS = {"signup.form", "signup.submit", "signup.email", "signup.confirm", "otp.request",
             "otp.email", "otp.verify", "magic.request", "magic.email", "magic.follow"}
# what an e-mailed secret or a generated password looks like (none is known in advance)
SECRETS = {
    "a confirmation key": re.compile(rb"confirm-email/(?!<redacted>)[A-Za-z0-9:_-]{8,}"),
    "a sign-in code": re.compile(rb"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b"),
    "a sign-in link's token": re.compile(rb"sesame=(?!<redacted>)[A-Za-z0-9_-]{8,}"),
    "a generated password": re.compile(rb"[A-Za-z0-9_-]{24}aA1!"),  # signup.FormSignup's
}


def mix(base_url: str, smtp_port: int) -> dict:
    return {
        "name": "signup_mix", "target": {"base_url": base_url}, "credentials": {"count": 20},
        "journeys": {
            "signup_only": {"steps": ["form_signup"]},
            "new_verified": {"steps": ["form_signup", "email_verify", "form_login", "api",
                                       "form_logout"]},
            "new_by_code": {"steps": ["form_signup", "email_verify", "email_code_login", "api"]},
            "new_by_link": {"steps": ["form_signup", "email_verify", "magic_link_login", "api"]},
            "returning": {"steps": ["form_login", "api", "form_logout"]},
        },
        "flows": {"mail": {"wait_s": 5, "poll_s": 0.05, "sink": {"smtp_port": smtp_port}}},
        "traffic": {"shape": {"kind": "steady", "rate": 3}, "arrivals": "uniform",
                    "mix": {"signup_only": 0.15, "new_verified": 0.25, "new_by_code": 0.2,
                            "new_by_link": 0.15, "returning": 0.25}},
        "run": {"duration_s": 10, "drain_s": 5},
    }


@pytest.fixture(scope="module")
def signup_run(tmp_path_factory, target, target_env):
    port = free_port()
    data_dir = tmp_path_factory.mktemp("signup-run-target")
    seed_data_dir(target.data_dir, data_dir)
    proc = start_target(TargetOptions(port=0, users=20, workers=1, threads=8,
                                      hasher_iterations=TEST_HASHER_ITERATIONS, data_dir=data_dir,
                                      signup=True, smtp_port=port), log=lambda line: None)
    tmp = tmp_path_factory.mktemp("signup-run")
    path = tmp / "scenario.yaml"
    path.write_text(json.dumps(mix(proc.base_url, port)))
    handler = logging.Handler()
    logged: list[str] = []
    handler.emit = lambda r: logged.append(r.getMessage())  # type: ignore[method-assign]
    logging.getLogger().addHandler(handler)
    try:
        code = main(["-v", "run", str(path), "--out", str(tmp / "runs"), "--no-progress",
                     "--analyze", "--target-pid", str(proc.pid)])
        run_dir = next((tmp / "runs").iterdir())
        reported = main(["report", str(run_dir)])
    finally:
        logging.getLogger().removeHandler(handler)
        proc.stop()
    target_log = (data_dir / "gunicorn.log").read_bytes() if (data_dir / "gunicorn.log").exists() else b""
    return code, reported, run_dir, "\n".join(logged).encode(), target_log


def test_at_low_load_every_sign_up_step_succeeds_with_no_harness_error(signup_run):
    code, reported, run_dir, _, _ = signup_run
    assert (code, reported) == (0, 0)
    requests = records(run_dir)
    requests = requests[requests["kind"] == record.KIND_REQUEST]
    assert NEW_STEPS <= set(requests["step"])
    failed = requests[requests["outcome"] != record.OK]
    assert failed.empty, failed[["step", "outcome", "reason"]].to_string()
    meta = json.loads((run_dir / "meta.json").read_text())
    counters = meta["mail"]["counters"]
    asked = requests["step"].isin(["signup.submit", "otp.email", "magic.email"]).sum()
    assert counters["delivered"] == counters["received"] >= asked


def test_the_analysis_curves_every_sign_up_step(signup_run):
    with analyze_run(signup_run[2]) as analysis:
        assert NEW_STEPS <= set(analysis.steps)


def test_no_link_code_or_generated_password_reaches_any_artefact(signup_run, capfd):
    _, _, run_dir, logged, target_log = signup_run
    places = {str(p): p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    places["the run's logs"] = logged
    places["the target's log"] = target_log
    places["the terminal"] = "".join(capfd.readouterr()).encode()
    assert any(p.endswith("report.html") for p in places)
    hits = [f"{what} in {where}" for where, data in places.items()
            for what, pattern in SECRETS.items() if pattern.search(data)]
    assert not hits, hits
