"""The master's end of record shipping: each worker's rows to its own shard, and a name
that is no worker name (from another host, it could name a path) gets no file."""

from __future__ import annotations

import logging

import pyarrow.parquet as pq

from authsurge.run.ingest import RecordIngest
from authsurge.rundir import records as record


def shipment(worker: str, *journeys: str) -> dict:
    """One MSG_RECORDS message's data, as a worker's ShippingTable sends it."""
    shipped: list[bytes] = []
    table = record.ShippingTable(record.REQUEST_SCHEMA, shipped.append)
    table.extend({"step": "login.form", "journey_id": j, "worker": worker} for j in journeys)
    table.flush()
    return {"worker": worker, "data": shipped[0], "run": "r"}


def test_each_workers_rows_land_in_its_own_shard_and_observers_see_every_batch(tmp_path):
    resources = record.StreamTable(tmp_path / "resources.parquet", record.RESOURCE_SCHEMA)
    seen: list[int] = []
    ingest = RecordIngest(tmp_path, resources, [lambda b: seen.append(b.num_rows)])
    assert ingest.records(shipment("worker-0", "a", "b")) == 2
    assert ingest.records(shipment("worker-1", "c")) == 1
    assert ingest.records(shipment("worker-0", "d")) == 1
    ingest.close()
    resources.close()
    shard = pq.read_table(tmp_path / "requests" / "worker-0.parquet")
    assert shard.column("journey_id").to_pylist() == ["a", "b", "d"]
    assert pq.read_table(tmp_path / "requests" / "worker-1.parquet").num_rows == 1
    assert seen == [2, 1, 1]


def test_a_name_that_could_be_a_path_gets_no_file_and_is_said_once(tmp_path, caplog):
    resources = record.StreamTable(tmp_path / "resources.parquet", record.RESOURCE_SCHEMA)
    ingest = RecordIngest(tmp_path / "run", resources)
    with caplog.at_level(logging.ERROR, logger="authsurge.run"):
        for _ in range(3):
            assert ingest.records(shipment("../../escaped", "a")) == 0
    ingest.close()
    resources.close()
    assert ingest.refused == {"../../escaped"}
    assert len([r for r in caplog.records if "escaped" in r.getMessage()]) == 1
    assert not list(tmp_path.rglob("escaped*")) and not (tmp_path / "run" / "requests").exists()
