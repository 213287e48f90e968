"""Target metrics from a Prometheus endpoint are scraped once a second into metrics.parquet:
the sampler against a real exporter on 127.0.0.1."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pyarrow.parquet as pq
import pytest

from authsurge.resources import PrometheusScraper, ResourceSampler
from authsurge.rundir import records as record

EXPOSITION = """\
# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total {cpu}
# TYPE http_requests_total counter
http_requests_total{{path="/login",code="200"}} 7
http_requests_total{{path="/login",code="503"}} 3
process_resident_memory_bytes 1.5e+08
"""


@pytest.fixture()
def exporter():
    scrapes = {"n": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            scrapes["n"] += 1
            body = EXPOSITION.format(cpu=scrapes["n"] * 0.5).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/metrics", scrapes
    finally:
        server.shutdown()
        server.server_close()


def test_sampler_scrapes_the_endpoint_each_interval_into_the_metrics_table(tmp_path, exporter):
    url, scrapes = exporter
    metrics = record.StreamTable(tmp_path / "metrics.parquet", record.METRIC_SCHEMA)
    resources = record.StreamTable(tmp_path / "resources.parquet", record.RESOURCE_SCHEMA)
    scraper = PrometheusScraper(url, ["process_cpu_seconds_total", "process_resident_memory_bytes"], metrics)
    sampler = ResourceSampler(resources, [], "w", interval=0.2, prometheus=scraper).start()
    deadline = time.monotonic() + 10  # 4 scrapes take 0.8 s; a loaded machine may need more
    while scrapes["n"] < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    sampler.stop()
    metrics.close()
    resources.close()
    rows = pq.read_table(tmp_path / "metrics.parquet").to_pandas()
    cpu = rows[rows["metric"] == "process_cpu_seconds_total"]["value"].tolist()
    assert len(cpu) >= 4 and cpu == sorted(cpu)  # the counter grows scrape by scrape
    assert set(rows[rows["metric"] == "process_resident_memory_bytes"]["value"]) == {1.5e8}
    assert scrapes["n"] == len(cpu)
