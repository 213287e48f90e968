"""The embedded target only ever listens on loopback: private and public addresses are refused."""

from __future__ import annotations

import pytest

from authsurge.errors import BadInput
from authsurge.target.options import TargetOptions, is_loopback


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("192.168.1.5", False), ("10.1.2.3", False), ("203.0.113.9", False), ("0.0.0.0", False),
    ("::", False), ("auth.example", False),
])
def test_only_loopback_counts_as_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_a_target_on_a_private_address_is_refused():
    with pytest.raises(BadInput, match="loopback"):
        TargetOptions(host="192.168.1.5").checked()
