"""Record tables: a torn stream reads up to its last complete batch, and rows get the
schema's defaults (what survives a killed writer process:
tests/integration/rundir/test_records.py)."""

from __future__ import annotations

import math

import pyarrow.parquet as pq

from authsurge.rundir import records as record
from authsurge.rundir.records import REQUEST_SCHEMA, StreamTable, read_stream


def test_torn_stream_tail_is_read_up_to_the_last_complete_batch(tmp_path):
    shard = tmp_path / "w.parquet"
    table = StreamTable(shard, REQUEST_SCHEMA)
    for i in range(10):
        table.append({"step": "s", "journey_id": str(i)})
        if i % 3 == 2:
            table.flush()
    table._sink.flush()
    stream = shard.with_suffix(".arrows")
    data = stream.read_bytes()
    stream.write_bytes(data[:-37])  # cut into the last batch
    got = read_stream(stream, REQUEST_SCHEMA)
    assert got.num_rows == 6
    assert got.column("journey_id").to_pylist() == [str(i) for i in range(6)]


def test_rows_with_missing_fields_get_schema_defaults(tmp_path):
    table = StreamTable(tmp_path / "w.parquet", REQUEST_SCHEMA)
    table.append({"step": "api.call"})
    table.close()
    row = pq.read_table(tmp_path / "w.parquet").to_pylist()[0]
    assert row["step"] == "api.call" and row["outcome"] == record.OK and row["attempt"] == 1
    assert row["kind"] == record.KIND_REQUEST and math.isnan(row["latency_ms"])
