"""The HTML report renders in Chromium: every image loads, nothing is fetched (the report
itself: tests/unit/report/test_html_report.py)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from authsurge.report.chromium import run_chromium
from authsurge.report.html_report import write_report
from tests.support.runner import run_scenario

PROBE = """
<script>
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images).map(function (i) {
    return {alt: i.alt, complete: i.complete, width: i.naturalWidth, height: i.naturalHeight};
  });
  var fetched = performance.getEntriesByType("resource").map(function (e) { return e.name; });
  var box = document.getElementById("headline");
  var out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify({images: images, fetched: fetched,
                                    headline: box ? box.innerText : ""});
  document.body.appendChild(out);
});
</script>
"""


def probe_copy(report: Path, dest: Path) -> Path:
    """The report with the probe script before </body>; its CSP also lets that one script run."""
    text = report.read_text(encoding="utf-8")
    assert "default-src 'none';" in text
    text = text.replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';", 1)
    dest.write_text(text.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    return dest


def chromium_probe(chromium: str, report: Path, tmp_path: Path) -> dict:
    """What the page shows in headless Chromium: its images, what it fetched, the headline."""
    page = probe_copy(report, tmp_path / "probe.html")
    dom = run_chromium(["--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
                       binary=chromium).stdout
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, "the probe did not run: " + dom[-500:]
    return json.loads(html.unescape(found.group(1)))


REAL_RUN = """
journeys:
  web: {steps: [form_login, api, form_logout]}
traffic:
  shape: {kind: step_ramp, start_rate: 2, step_rate: 2, step_s: 4, steps: 2}
  arrivals: uniform
run: {duration_s: 8, drain_s: 3}
"""


def test_the_report_of_a_real_run_renders_in_chromium(chromium: str, target, tmp_path: Path) -> None:
    result = run_scenario(tmp_path, target.base_url, REAL_RUN, pids=target.pids())
    status = chromium_probe(chromium, write_report(result.run_dir), tmp_path)
    assert len(status["images"]) >= 4
    for image in status["images"]:
        assert image["complete"] and image["width"] > 0 and image["height"] > 0, image
    assert [u for u in status["fetched"] if not u.startswith("data:")] == []
    # 2 then 4 journeys/s for 4 s each: no load level holds enough requests to judge, and the
    # headline says so instead of "healthy up to ? req/s"
    assert "surge verdict" in status["headline"].lower()
    assert "too few requests at each load level to judge any step" in status["headline"]
    assert "?" not in status["headline"]


def test_report_renders_in_chromium_with_every_image_loaded(
        chromium: str, report_with_baseline: Path, tmp_path: Path, artifacts: Path) -> None:
    status = chromium_probe(chromium, report_with_baseline, tmp_path)
    assert len(status["images"]) == 6  # with the seed panel (sign-in, sign-out, the API)
    assert any(i["alt"].startswith("Sign-in against the API") for i in status["images"])
    for image in status["images"]:
        assert image["complete"] and image["width"] > 0 and image["height"] > 0, image
    assert [u for u in status["fetched"] if not u.startswith("data:")] == []
    assert "surge verdict: fails" in status["headline"].lower()  # CSS upper-cases it
    assert "login.submit" in status["headline"]

    shot = artifacts / "report.png"
    shot.unlink(missing_ok=True)
    run_chromium(["--window-size=1280,2400", "--hide-scrollbars", "--virtual-time-budget=5000",
                  f"--screenshot={shot}", report_with_baseline.as_uri()], binary=chromium)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
