"""The HTML report: self-contained, shows the analysis' numbers (in Chromium:
tests/integration/report/test_html_report.py)."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from authsurge.analysis.wording import rate
from authsurge.cli import main
from authsurge.errors import ExitStatus
from authsurge.report.html_report import write_report


class Collect(HTMLParser):
    """Every tag with its attributes, and the text, of an HTML document."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(text: str) -> Collect:
    parser = Collect()
    parser.feed(text)
    return parser


@pytest.fixture(scope="module")
def report(report_run: Path) -> Path:
    return write_report(report_run)


def test_report_defaults_to_run_dir_report_html(report: Path, report_run: Path) -> None:
    assert report == report_run / "report.html"
    assert (report_run / "analysis.json").exists()  # it analysed the run: there was no analysis
    assert all((report_run / "plots" / f"{n}.png").exists()
               for n in ("capacity", "latency", "errors", "timeline"))


def test_report_requests_nothing_from_outside(report: Path, report_with_baseline: Path) -> None:
    for path in (report, report_with_baseline):
        text = path.read_text(encoding="utf-8")
        doc = parse(text)
        for tag, attrs in doc.tags:
            assert tag not in ("script", "link", "iframe", "object", "embed", "base"), tag
            for name in ("src", "href", "srcset", "action", "poster", "data"):
                value = attrs.get(name, "").strip().lower()
                assert not re.match(r"^(https?:|ftp:|//|file:)", value), (tag, name, value[:80])
        images = [attrs["src"] for tag, attrs in doc.tags if tag == "img"]
        assert images and all(src.startswith("data:image/png;base64,") for src in images)
        assert "url(" not in text and "@import" not in text  # CSS fetches nothing either
        csp = [a["content"] for t, a in doc.tags
               if t == "meta" and a.get("http-equiv", "").lower() == "content-security-policy"]
        assert csp and "default-src 'none'" in csp[0]


def test_report_shows_the_headline_with_the_analysis_numbers(report: Path, report_run: Path) -> None:
    doc = json.loads((report_run / "analysis.json").read_text())
    text = html.unescape(" ".join(parse(report.read_text()).text).replace("\n", " "))
    text = re.sub(r"\s+", " ", text)
    first = doc["first_to_fail"][0]
    knee = doc["steps"][first["step"]]["knee"]
    assert f"Surge verdict: {doc['verdict']['status']}" in text
    assert f"fails first {first['step']}" in text
    assert f"{rate(knee['offered'])} req/s offered" in text
    assert f"{rate(knee['capacity'])} req/s" in text
    assert f"{doc['verdict']['multiple_needed']:.1f}x capacity" in text
    for name in doc["steps"]:
        assert name in text
    # SLOs: one breached, one met, one not judged
    assert "login_api error_rate < 1%" in text and "BREACHED" in text
    assert "api.call p95 < 100 ms" in text and " met " in text
    assert "not judged" in text
    assert "SLOs met 1 of 2" in text


def test_report_has_metadata_harness_health_and_the_command(report: Path) -> None:
    text = re.sub(r"\s+", " ", html.unescape(" ".join(parse(report.read_text()).text)))
    assert "authsurge run scenarios/synthetic.yaml --set traffic.shape.rate=100" in text
    assert "target version 2.4.0" in text
    assert "generator CPU, peak" in text and "event-loop lag, worst" in text
    assert "dropped journeys" in text
    assert "arrivals on schedule no: 1 window(s) short" in text
    assert "120 121 100 80 15 5 0.4" in text  # the shortfall window, seconds from the start


def test_report_reuses_a_fresh_analysis_and_redoes_a_stale_one(report_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(report_run, run)
    write_report(run)
    analysis = run / "analysis.json"
    made = analysis.stat().st_mtime_ns
    write_report(run)
    assert analysis.stat().st_mtime_ns == made  # fresh: reused
    later = time.time() + 5
    os.utime(run / "meta.json", (later, later))  # the run changed after its analysis
    write_report(run)
    assert analysis.stat().st_mtime_ns > made


def test_report_with_a_baseline_has_the_comparison(report_with_baseline: Path) -> None:
    text = re.sub(r"\s+", " ", html.unescape(" ".join(parse(report_with_baseline.read_text()).text)))
    assert "Compared with the baseline" in text
    assert "regression" in text
    assert re.search(r"login\.submit capacity \(req/s\) [\d.,]+ req/s [\d.,]+ req/s -\d+% \[", text)
    images = [a for t, a in parse(report_with_baseline.read_text()).tags if t == "img"]
    assert len(images) == 6  # five run figures (its sign-in steps make the step-group panel) and the comparison


def test_report_cli(report_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.html"
    assert main(["report", str(report_run), "-o", str(out)]) == ExitStatus.SUCCESS
    assert f"report: {out}" in capsys.readouterr().out
    assert out.stat().st_size > 100_000


def test_report_of_a_missing_run_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path / "nope")]) == ExitStatus.BAD_INPUT
    assert "no meta.json" in capsys.readouterr().err
