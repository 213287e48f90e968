"""The leak scan itself (tests/support/secret_scan.py) finds a planted secret in every kind
of artefact; the runs it scans for leaks: tests/integration/secret/test_no_leaks.py."""

from __future__ import annotations

import json

from tests.support.secret_scan import needles, scan_run_dir

CLIENTS = ["surge-confidential", "surge-service"]


def test_the_scan_finds_a_planted_secret_in_every_kind_of_artefact(tmp_path):
    """The scan is only worth something if it can see a leak: compressed Parquet dictionary
    columns, an Arrow stream, an SVG, and a Basic auth header."""
    import base64

    import pyarrow as pa
    import pyarrow.parquet as pq

    from authsurge.rundir import records as record

    secret = "planted-secret-value"
    (tmp_path / "requests").mkdir()
    table = record.StreamTable(tmp_path / "requests" / "w.parquet", record.REQUEST_SCHEMA)
    table.append({"kind": "request", "step": "login.submit", "reason": f"bad {secret}"})
    table.close()
    with pa.OSFile(str(tmp_path / "requests" / "x.arrows"), "wb") as sink:
        with pa.ipc.new_stream(sink, record.REQUEST_SCHEMA) as writer:
            writer.write_table(pa.Table.from_pylist([{"kind": "request", "worker": secret}],
                                                    schema=record.REQUEST_SCHEMA))
    (tmp_path / "plot.svg").write_text(f"<svg><text>{secret}</text></svg>")
    basic = base64.b64encode(f"surge-service:{secret}".encode()).decode()
    (tmp_path / "meta.json").write_text(json.dumps({"auth": f"Basic {basic}"}))
    hits, _ = scan_run_dir(tmp_path, needles({"s": secret}, CLIENTS))
    assert any("w.parquet (string columns)" in h for h in hits)
    assert any("x.arrows (string columns)" in h for h in hits)
    assert any(h.startswith("plot.svg") for h in hits)
    assert "meta.json: s (Basic auth of surge-service)" in hits
    assert pq.read_table(tmp_path / "requests" / "w.parquet").num_rows == 1
