"""Each run owns its Locust events: nothing it attaches outlives it, and a closed table
refuses rows. Here the recorder and the tables on their own; runs in one process:
tests/integration/run/test_run_isolation.py."""

from __future__ import annotations

import locust

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from authsurge.recorder import Recorder
from authsurge.rundir import records as record


def test_a_detached_recorder_hears_nothing_more():
    events = locust.event.Events()
    table = record.ShippingTable(record.REQUEST_SCHEMA, lambda data: None)
    recorder = Recorder(table, "worker-0")  # type: ignore[arg-type]
    recorder.attach(events)
    events.request.fire(request_type="GET", name="a", response_time=1.0, response_length=0)
    recorder.detach()
    events.request.fire(request_type="GET", name="b", response_time=1.0, response_length=0)
    assert recorder.requests == 1 and not events.request._handlers


def test_a_closed_table_refuses_rows(tmp_path):
    table = record.StreamTable(tmp_path / "t.parquet", record.RESOURCE_SCHEMA)
    table.append({"t": 1.0, "source": "target"})
    table.close()
    with pytest.raises(record.TableClosed):
        table.append({"t": 2.0, "source": "target"})
    with pytest.raises(record.TableClosed):
        table.append_values((2.0,))
    batch = pa.record_batch([pa.array([3.0])], names=["t"])
    with pytest.raises(record.TableClosed):
        table.write_batch(batch)
    assert pq.read_table(tmp_path / "t.parquet").num_rows == 1  # what came before close


def test_a_closed_shipping_table_refuses_rows():
    sent: list[bytes] = []
    table = record.ShippingTable(record.RESOURCE_SCHEMA, sent.append)
    table.append({"t": 1.0})
    table.close()
    assert len(sent) == 1
    with pytest.raises(record.TableClosed):
        table.append({"t": 2.0})
