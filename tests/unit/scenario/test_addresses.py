"""target.source_addresses: addresses, ranges and networks, loopback only."""

from __future__ import annotations

import pytest

from authsurge.scenario import TargetConfig
from authsurge.scenario.addresses import expand


def test_addresses_ranges_and_networks_expand_in_order_without_repeats() -> None:
    assert expand(["127.0.0.2", "127.0.0.3-127.0.0.5", "127.0.1.0/30", "127.0.0.2"]) == [
        "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.1.1", "127.0.1.2"]


@pytest.mark.parametrize(("item", "says"), [
    ("10.0.0.1", "not in 127.0.0.0/8"),
    ("127.0.0.9-127.0.0.2", "ends before it starts"),
    ("127.0.0.1-128.0.0.1", "more than 65,536"),
    ("localhost", "cannot read"),
    ("::1", "cannot read"),
])
def test_an_address_off_loopback_or_unreadable_is_refused_with_why(item: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        expand([item])


def test_the_target_reads_one_string_or_a_list_and_refuses_them_with_a_target_they_cannot_reach() -> None:
    assert TargetConfig(source_addresses="127.0.0.2-127.0.0.3").source_addresses == ["127.0.0.2", "127.0.0.3"]
    assert TargetConfig(base_url="http://localhost:8000", source_addresses=["127.0.0.2"])
    with pytest.raises(ValueError, match="cannot reach it"):
        TargetConfig(base_url="http://[::1]:8000", source_addresses=["127.0.0.2"])
    with pytest.raises(ValueError, match="cannot reach it"):
        TargetConfig(base_url="http://idp.example:8000", allowed_hosts=["idp.example"],
                     source_addresses=["127.0.0.2"])
    with pytest.raises(ValueError, match="list"):  # not a list: pydantic says so (exit 2, not 3)
        TargetConfig(source_addresses=5)
