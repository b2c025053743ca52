"""Local VLAN allocation: stable across restarts, lowest free id, Neutron's Port other_config."""

from __future__ import annotations

import pytest

from neutrino.agent.l2.local_vlans import (
    DEAD_VLAN,
    LocalVlan,
    LocalVlansExhausted,
    allocate,
    existing_lvids,
    parse_other_config,
    port_other_config,
)
from neutrino.contract.desired import Segment

pytestmark = pytest.mark.unit

VLAN = Segment("vlan", "physnet1", 100, 1500)
FLAT = Segment("flat", "physnet1", None, 1500)
VXLAN = Segment("vxlan", None, 1000, 1450)
LOCAL = Segment("local", None, None, 1500)


def test_dead_vlan_is_outside_the_pool() -> None:
    assert DEAD_VLAN == 4095


def test_new_networks_get_lowest_ids_in_network_id_order() -> None:
    got = allocate({"net-b": VXLAN, "net-a": VLAN, "net-c": LOCAL}, {})
    assert got == {
        "net-a": LocalVlan("net-a", 1, "vlan", "physnet1", 100),
        "net-b": LocalVlan("net-b", 2, "vxlan", None, 1000),
        "net-c": LocalVlan("net-c", 3, "local", None, None),
    }


def test_restart_keeps_every_existing_lvid() -> None:
    existing = {"net-a": 10, "net-b": 21, "net-c": 3}
    got = allocate({"net-a": VLAN, "net-b": VXLAN, "net-c": FLAT}, existing)
    assert {n: lv.lvid for n, lv in got.items()} == existing


def test_reallocation_keeps_lvids_fills_holes_and_drops_unwanted() -> None:
    first = allocate({"a": VLAN, "b": VXLAN, "c": FLAT}, {})
    assert {n: lv.lvid for n, lv in first.items()} == {"a": 1, "b": 2, "c": 3}
    second = allocate({"b": VXLAN, "c": FLAT, "d": LOCAL, "e": LOCAL}, {n: lv.lvid for n, lv in first.items()})
    assert {n: lv.lvid for n, lv in second.items()} == {"b": 2, "c": 3, "d": 1, "e": 4}


def test_invalid_or_conflicting_existing_lvids_are_reassigned() -> None:
    got = allocate({"a": VLAN, "b": VXLAN, "c": FLAT, "d": LOCAL}, {"a": 5, "b": 5, "c": DEAD_VLAN, "d": 0})
    assert {n: lv.lvid for n, lv in got.items()} == {"a": 5, "b": 1, "c": 2, "d": 3}


def test_segment_change_keeps_lvid_but_updates_mapping() -> None:
    got = allocate({"a": Segment("vlan", "physnet1", 200, 1500)}, {"a": 7})
    assert got["a"] == LocalVlan("a", 7, "vlan", "physnet1", 200)


def test_exhaustion_is_a_clear_error() -> None:
    networks = {f"n{i:04d}": LOCAL for i in range(4094)}
    full = allocate(networks, {})
    assert sorted(lv.lvid for lv in full.values()) == list(range(1, 4095))
    with pytest.raises(LocalVlansExhausted, match="no free local VLAN for network zz.*4094"):
        allocate({**networks, "zz": LOCAL}, {n: lv.lvid for n, lv in full.items()})


def test_other_config_has_exactly_neutrons_keys() -> None:
    assert port_other_config(LocalVlan("net-a", 10, "vlan", "physnet1", 100)) == {
        "net_uuid": "net-a", "network_type": "vlan", "physical_network": "physnet1", "tag": "10",
        "segmentation_id": "100",
    }
    assert port_other_config(LocalVlan("net-b", 11, "vxlan", None, 1000)) == {
        "net_uuid": "net-b", "network_type": "vxlan", "physical_network": "None", "tag": "11",
        "segmentation_id": "1000",
    }
    assert port_other_config(LocalVlan("net-c", 12, "local", None, None)) == {
        "net_uuid": "net-c", "network_type": "local", "physical_network": "None", "tag": "12",
    }


def test_other_config_round_trip() -> None:
    for lv in allocate({"a": VLAN, "b": VXLAN, "c": FLAT, "d": LOCAL}, {"b": 4094}).values():
        assert parse_other_config(port_other_config(lv)) == (lv.network_id, lv.lvid)


@pytest.mark.parametrize("config", [
    {}, {"net_uuid": "a"}, {"tag": "3"}, {"net_uuid": "", "tag": "3"}, {"net_uuid": "a", "tag": "x"},
    {"net_uuid": "a", "tag": "4095"}, {"net_uuid": "a", "tag": "0"},
])
def test_parse_rejects_foreign_or_garbled_configs(config: dict[str, str]) -> None:
    assert parse_other_config(config) is None


def test_existing_lvids_from_ports_smallest_wins_and_feeds_allocate() -> None:
    configs = [
        {"net_uuid": "a", "tag": "12"}, {"net_uuid": "a", "tag": "10"}, {"net_uuid": "b", "tag": "11"},
        {"iface-id": "foreign"},
    ]
    existing = existing_lvids(configs)
    assert existing == {"a": 10, "b": 11}
    assert {n: lv.lvid for n, lv in allocate({"a": VLAN, "b": VXLAN}, existing).items()} == existing
