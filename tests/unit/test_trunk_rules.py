"""The pure trunk rules: subport request shape, segmentation, derived status."""

from __future__ import annotations

import pytest

from neutrino.domain.trunks import rules

pytestmark = pytest.mark.unit
P1, P2 = "6c9c5126-4f61-11e6-8248-40a8f063c891", "343a03d0-4f7c-11e6-97fa-40a8f063c891"


def test_validate_subports_shapes():
    assert rules.validate_subports([]) is None
    assert "is not a list" in rules.validate_subports({"port_id": P1})
    assert "is not a dict" in rules.validate_subports(["x"])
    assert rules.validate_subports([{"segmentation_id": 2}]) == "A valid port UUID must be specified"
    assert "Invalid UUID" in rules.validate_subports([{"port_id": "nope"}])
    assert "Non unique UUID" in rules.validate_subports([{"port_id": P1}, {"port_id": P1}])
    assert "missing segmentation" in rules.validate_subports([{"port_id": P1, "segmentation_id": 2}])
    assert rules.validate_subports([{"port_id": P1}]) is None  # refused later, by segmentation_of
    dup = [{"port_id": P1, "segmentation_type": "vlan", "segmentation_id": 2},
           {"port_id": P2, "segmentation_type": "vlan", "segmentation_id": 2}]
    assert "is not unique" in rules.validate_subports(dup)
    # an inherit entry ends the check, as in neutron-lib
    assert rules.validate_subports([{"port_id": P1, "segmentation_type": "inherit"}, *dup]) is None


@pytest.mark.parametrize(("sub", "message"), [
    ({"port_id": P1}, "missing segmentation"),
    ({"port_id": P1, "segmentation_type": "vlan", "segmentation_id": "x"}, "is not an integer"),
    ({"port_id": P1, "segmentation_type": "vxlan", "segmentation_id": 5}, "Unknown segmentation_type 'vxlan'"),
    ({"port_id": P1, "segmentation_type": "vlan", "segmentation_id": 0}, "is not in range"),
    ({"port_id": P1, "segmentation_type": "vlan", "segmentation_id": 4095}, "is not in range"),
])
def test_segmentation_refused(sub, message):
    with pytest.raises(ValueError, match=message):
        rules.segmentation_of(sub)


def test_segmentation_accepted():
    assert rules.segmentation_of({"port_id": P1, "segmentation_type": "vlan", "segmentation_id": "101"}) == ("vlan", 101)
    assert rules.segmentation_of({"segmentation_type": "vlan", "segmentation_id": 4094}) == ("vlan", 4094)


def test_trunk_status():
    assert rules.trunk_status(None, "", [], []) == "DOWN"
    assert rules.trunk_status("unbound", "h1", ["DOWN"], []) == "DOWN"
    assert rules.trunk_status("binding_failed", "h1", ["DOWN"], []) == "ERROR"
    assert rules.trunk_status("ovs", "h1", ["ACTIVE", "DOWN"], ["binding_failed"]) == "DEGRADED"
    assert rules.trunk_status("ovs", "h1", ["ACTIVE", "DOWN"], ["ovs"]) == "BUILD"
    assert rules.trunk_status("ovs", "h1", ["ACTIVE", "ACTIVE"], ["ovs"]) == "ACTIVE"
