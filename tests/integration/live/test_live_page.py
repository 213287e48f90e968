"""`authsurge run --web`: the live page in Chromium during a real run, and Stop from
Locust's own UI leaving a complete run directory."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from authsurge.cli import main
from authsurge.errors import ExitStatus
from authsurge.report.chromium import find_chromium
from tests.integration.live.conftest import LiveRun, start_live_run, wait_for

STEPS = {"login.form", "login.submit", "api.call", "logout"}
BODY = """
credentials: {count: 50}
journeys:
  web_login: {steps: [form_login, api, form_logout]}
traffic: {model: open, shape: {kind: steady, rate: 4}}
run: {duration_s: 90, drain_s: 3}
"""


@pytest.fixture(scope="module")
def web_run(target, target_env, tmp_path_factory) -> Iterator[LiveRun]:  # noqa: ANN001
    with start_live_run(tmp_path_factory.mktemp("web"), target.base_url, BODY, web=True) as live:
        yield live


def browser(chromedriver: str) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = find_chromium() or "chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--window-size=1400,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(chromedriver), options=options)


def points(driver: webdriver.Chrome, step: str) -> int:
    canvas = driver.find_element(By.CSS_SELECTOR, f'tr[data-step="{step}"] canvas.throughput')
    return int(canvas.get_attribute("data-points") or 0)


def steps_shown(driver: webdriver.Chrome) -> set[str]:
    return {tr.get_attribute("data-step") or ""
            for tr in driver.find_elements(By.CSS_SELECTOR, "#steps tbody tr")}


def test_the_live_page_shows_a_row_per_step_its_charts_update_and_stop_leaves_a_complete_run(
    web_run: LiveRun, chromedriver: str
) -> None:
    wait_for(web_run.web + "/authsurge", proc=web_run.proc)
    driver = browser(chromedriver)
    try:
        driver.get(web_run.web + "/authsurge")
        WebDriverWait(driver, 45).until(lambda d: STEPS <= steps_shown(d))
        first = points(driver, "login.submit")
        WebDriverWait(driver, 20).until(lambda d: points(d, "login.submit") > first)
        assert driver.find_element(By.ID, "status").text == "running"
        assert int(driver.find_element(By.ID, "journeys").text.replace(",", "")) > 0
        # the page's own script ran under its Content-Security-Policy: nothing refused
        problems = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert not problems, problems
        # Locust's own UI: its user-count fields are hidden for the run's shape; press Stop
        driver.get(web_run.web + "/")
        stop = WebDriverWait(driver, 30).until(lambda d: next(
            (b for b in d.find_elements(By.TAG_NAME, "button") if b.text.strip().lower() == "stop"),
            None))
        stop.click()
    finally:
        driver.quit()
    code = web_run.proc.wait(timeout=90)
    output = web_run.proc.stdout.read() if web_run.proc.stdout else ""
    assert code == ExitStatus.INTERRUPTED, output[-3000:]
    assert "stopped from the web UI" in output
    run_dir = web_run.run_dir()
    meta = json.loads((run_dir / "meta.json").read_text())
    assert meta["status"] == "interrupted"
    assert meta["ended_at"] - meta["started_at"] < 80, meta  # stopped, not its 90-s plan
    assert sorted(p.name for p in (run_dir / "requests").iterdir()) == ["worker-0.parquet"]
    assert not list(Path(run_dir).rglob("*.arrows"))  # every stream compacted
    assert main(["analyze", str(run_dir), "--no-plots"]) == 0


def test_new_tests_and_edits_from_the_ui_are_refused_during_a_cli_run(
    target, target_env, tmp_path  # noqa: ANN001
) -> None:
    import requests

    body = BODY.replace("duration_s: 90", "duration_s: 6")
    with start_live_run(tmp_path, target.base_url, body, web=True) as live:
        wait_for(live.web + "/", proc=live.proc)
        page = requests.get(live.web + "/", timeout=5).text
        assert '"hide_common_options": true' in page  # Locust hides the user-count fields
        answer = requests.post(live.web + "/swarm", data={"user_count": 5, "spawn_rate": 1},
                               timeout=5)
        assert answer.status_code == 409 and "authsurge run" in answer.json()["message"]
        # Locust's own UI gets an "authsurge (live)" tab: one row per step, through its stats
        until_rows = time.time() + 30
        while time.time() < until_rows:
            stats = requests.get(live.web + "/stats/requests", timeout=5).json()
            [tab] = [t for t in stats.get("extended_stats", []) if t["key"] == "authsurge"]
            if {row["step"] for row in tab["data"]} >= STEPS:
                break
            time.sleep(0.5)
        assert {row["step"] for row in tab["data"]} >= STEPS, tab
        assert live.proc.wait(timeout=60) == ExitStatus.SUCCESS
