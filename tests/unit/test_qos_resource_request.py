"""domain/qos/resource_request.py: a port's resource_request from its policy's minimum rules."""

from __future__ import annotations

import uuid

import pytest

from neutrino.domain.qos import resource_request as rr
from neutrino.domain.qos import rules

pytestmark = pytest.mark.unit
PORT = "6a4d1f3c-1b43-4c2e-9f0b-4c8e2b1d7a10"


def _rule(id_: str, type_: str, direction: str, value: int) -> rr.MinimumRule:
    return rr.MinimumRule(id_, type_, direction, value)


def test_no_minimum_rules_is_none() -> None:
    assert rr.build(PORT, "normal", [], ("physnet1",)) is None


def test_bandwidth_group_on_a_physnet_and_packet_rate_group() -> None:
    found = rr.build(PORT, "direct", [_rule("b", rules.MINIMUM_BANDWIDTH, "ingress", 2000),
                                      _rule("a", rules.MINIMUM_BANDWIDTH, "egress", 1000),
                                      _rule("c", rules.MINIMUM_PACKET_RATE, "any", 500)], ("phys-net.1",))  # fmt: skip
    assert found is not None
    bw, pps = found["request_groups"]
    assert bw["id"] == str(uuid.uuid5(uuid.UUID(PORT), "a:b"))  # the rules' ids, sorted, joined by ':'
    assert bw["required"] == ["CUSTOM_PHYSNET_PHYS_NET_1", "CUSTOM_VNIC_TYPE_DIRECT"]
    assert bw["resources"] == {"NET_BW_EGR_KILOBIT_PER_SEC": 1000, "NET_BW_IGR_KILOBIT_PER_SEC": 2000}
    assert pps == {"id": str(uuid.uuid5(uuid.UUID(PORT), "c")), "required": ["CUSTOM_VNIC_TYPE_DIRECT"],
                   "resources": {"NET_PACKET_RATE_KILOPACKET_PER_SEC": 500}}  # fmt: skip
    assert found["same_subtree"] == [bw["id"], pps["id"]]


def test_tunnelled_network_and_no_segment() -> None:
    bw = [_rule("a", rules.MINIMUM_BANDWIDTH, "egress", 10)]
    found = rr.build(PORT, "normal", bw, (None,))
    assert found is not None and found["request_groups"][0]["required"][0] == rr.TUNNEL_TRAIT
    assert rr.build(PORT, "normal", bw, None) is None


def test_any_direction_does_not_mix_with_directed_packet_rate_rules() -> None:
    assert rules.mixes_any_direction(rules.MINIMUM_PACKET_RATE, "any", "egress")
    assert rules.mixes_any_direction(rules.MINIMUM_PACKET_RATE, "ingress", "any")
    assert not rules.mixes_any_direction(rules.MINIMUM_PACKET_RATE, "egress", "ingress")
    assert not rules.mixes_any_direction(rules.MINIMUM_BANDWIDTH, "any", "egress")
