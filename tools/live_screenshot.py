"""Make docs/img/live_page.png: the live page of `authsurge run scenarios/demo_spike.yaml
--web` against the embedded target, some seconds in (a script for the README, not a test).

    python tools/live_screenshot.py [--after 70]

Starts the embedded target on 127.0.0.1 (a fresh data dir in a temporary folder) with a
planted sign-in capacity (--capacity, 14/s: the ramp passes it on any machine, so the
page shows login.submit bend), runs the scenario with --web on a free loopback port,
screenshots the live page in Debian's Chromium (chromedriver, no download), presses Stop
and stops everything it started.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from authsurge.report.chromium import find_chromium
from authsurge.target import (
    CLIENT_SECRET_ENV,
    DEMO_CLIENT_SECRET,
    DEMO_PASSWORD,
    PASSWORD_ENV,
    TargetOptions,
    running_target,
)

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "img" / "live_page.png"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--after", type=float, default=70.0, metavar="S",
                        help="seconds into the run to take the screenshot (default 70)")
    parser.add_argument("--capacity", type=float, default=14.0, metavar="N",
                        help="the target's planted sign-in capacity, per second (default 14)")
    args = parser.parse_args(argv)
    os.environ.setdefault(PASSWORD_ENV, DEMO_PASSWORD)
    os.environ.setdefault(CLIENT_SECRET_ENV, DEMO_CLIENT_SECRET)
    with tempfile.TemporaryDirectory(prefix="authsurge-shot-") as tmp, running_target(
        TargetOptions(port=0, data_dir=Path(tmp) / "target", users=200, workers=2, threads=16,
                      login_capacity=args.capacity),
        log=print,
    ) as target:
        port = free_port()
        web = f"http://127.0.0.1:{port}"
        cmd = [sys.executable, "-m", "authsurge", "run", "scenarios/demo_spike.yaml",
               "--target", target.base_url, "--web", f"127.0.0.1:{port}", "--no-progress",
               "--out", str(Path(tmp) / "runs"),
               *[a for pid in target.pids() for a in ("--target-pid", str(pid))]]
        run = subprocess.Popen(cmd, cwd=ROOT)
        options = webdriver.ChromeOptions()
        options.binary_location = find_chromium() or "chromium"
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1300"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        try:
            deadline = time.time() + 60
            while time.time() < deadline:
                try:
                    requests.get(web + "/authsurge", timeout=2)
                    break
                except requests.RequestException:
                    time.sleep(0.5)
            driver.get(web + "/authsurge")
            time.sleep(args.after)
            OUT.parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(OUT))
            print(f"wrote {OUT}")
            requests.post(web + "/stop", timeout=30)
        finally:
            driver.quit()
            try:
                run.wait(timeout=60)
            except subprocess.TimeoutExpired:
                run.terminate()
                run.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
