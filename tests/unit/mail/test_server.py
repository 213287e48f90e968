"""The in-process SinkServer (what the sink's child process runs)."""

from __future__ import annotations

import pytest

from authsurge.mail.server import SinkServer


def test_the_in_process_server_refuses_a_gevent_patched_process():
    """The test process is patched (tests/conftest.py imports locust) as a run's is; the
    refusal comes before any port is bound."""
    with pytest.raises(RuntimeError, match="gevent-patched process"):
        SinkServer().start()
