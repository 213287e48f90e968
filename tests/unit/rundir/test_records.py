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
    assert row["cohort"] == record.SURGE


def test_a_format_1_stream_reads_with_a_null_cohort(tmp_path):
    import pyarrow as pa

    old = pa.schema([f for f in REQUEST_SCHEMA if f.name not in record.OPTIONAL_REQUEST_COLUMNS])
    path = tmp_path / "w.arrows"
    batch = pa.record_batch([pa.array([v], type=f.type) for f, v in zip(
        old, ["request", 1.0, 1.0, "api.call", "web", "j", "p", 1, "GET", 200, "ok", "", 3.0, 10, "w"],
        strict=True)], schema=old)
    with open(path, "wb") as sink, pa.ipc.new_stream(sink, old) as writer:
        writer.write_batch(batch)
    got = read_stream(path, REQUEST_SCHEMA)
    assert got.schema == REQUEST_SCHEMA and got.num_rows == 1
    assert got.column("step").to_pylist() == ["api.call"] and got.column("cohort").to_pylist() == [None]


def test_a_stream_compacts_to_parquet_a_row_group_at_a_time_and_a_torn_tail_keeps_the_rest(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(record, "ROW_GROUP_ROWS", 25)
    table = StreamTable(tmp_path / "w.parquet", REQUEST_SCHEMA)
    for i in range(100):
        table.append({"step": "s", "journey_id": str(i)})
        if i % 10 == 9:
            table.flush()
    table._sink.flush()
    stream = tmp_path / "w.arrows"
    whole = stream.read_bytes()
    table.close()  # compacts the stream into w.parquet and removes it
    compacted = pq.ParquetFile(tmp_path / "w.parquet")
    assert compacted.metadata.num_row_groups == 4  # 30, 30, 30, 10 rows: groups of >= 25
    assert compacted.read().column("journey_id").to_pylist() == [str(i) for i in range(100)]
    stream.write_bytes(whole[:-37])  # a killed writer: the last batch torn
    assert record.compact(stream, tmp_path / "torn.parquet", REQUEST_SCHEMA) == 90
    assert pq.read_table(tmp_path / "torn.parquet").num_rows == 90
