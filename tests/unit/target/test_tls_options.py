"""HTTPS targets: a certificate file goes with its key (the HTTPS target itself and what the
harness makes of its certificate: tests/integration/tls/test_tls.py)."""

from __future__ import annotations

import pytest

from authsurge.errors import BadInput
from authsurge.target import TargetOptions
from tests.support.certs import make_certs


def test_certfile_without_keyfile_is_refused(tmp_path):
    certs = make_certs(tmp_path)
    with pytest.raises(BadInput, match="--certfile and --keyfile go together"):
        TargetOptions(certfile=certs.cert).checked()
    with pytest.raises(BadInput, match="no such file"):
        TargetOptions(certfile=tmp_path / "nope.pem", keyfile=certs.key).checked()
