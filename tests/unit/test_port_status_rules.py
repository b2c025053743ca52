"""Provisioning-block bookkeeping as data, and the fake agent's reported configurations."""

from __future__ import annotations

import click
import pytest

from neutrino.agent.kinds import configurations_for
from neutrino.cli.agent import parse_mappings
from neutrino.domain.services.port_status import DHCP, L2, blocks_for, status_when_complete

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("owner", "hosted", "address", "expected"),
    [
        ("compute:nova", False, False, {L2}),
        ("compute:nova", True, True, {L2, DHCP}),
        ("compute:nova", True, False, {L2}),  # no address on a DHCP subnet
        ("compute:nova", False, True, {L2}),  # no DHCP agent serves the network
        ("", True, True, {DHCP}),  # no L2 block for ownerless ports (Neutron's list)
        ("network:router_interface", True, True, {DHCP}),
        ("network:dhcp", True, True, set()),
        ("network:floatingip", True, True, set()),
    ],
)
def test_blocks_for_a_freshly_bound_port(owner, hosted, address, expected):
    assert blocks_for(owner, status="DOWN", dhcp_hosted=hosted, has_dhcp_address=address) == expected


def test_an_active_port_gets_no_block():
    assert blocks_for("compute:nova", status="ACTIVE", dhcp_hosted=True, has_dhcp_address=True) == set()


def test_active_only_when_nothing_blocks_an_enabled_bound_port():
    assert status_when_complete("DOWN", remaining=[], admin_state_up=True, bound=True) == "ACTIVE"
    assert status_when_complete("DOWN", remaining=[DHCP], admin_state_up=True, bound=True) == "DOWN"
    assert status_when_complete("DOWN", remaining=iter([]), admin_state_up=False, bound=True) == "DOWN"
    assert status_when_complete("DOWN", remaining=[], admin_state_up=True, bound=False) == "DOWN"
    assert status_when_complete("BUILD", remaining=[L2], admin_state_up=True, bound=True) == "BUILD"


def test_bridge_mappings_parsing():
    assert parse_mappings("") == {}
    assert parse_mappings("physnet1:br-p1, physnet2:br-p2") == {"physnet1": "br-p1", "physnet2": "br-p2"}
    for bad in ("physnet1", "physnet1:", ":br", "p:a,p:b"):
        with pytest.raises(click.BadParameter):
            parse_mappings(bad)


def test_reported_configurations_per_agent_kind():
    ovs = configurations_for("ovs", bridge_mappings={"physnet1": "br-p1"}, tunnel_types=["vxlan"], tunneling_ip="10.0.0.2")
    assert ovs["bridge_mappings"] == {"physnet1": "br-p1"} and ovs["tunnel_types"] == ["vxlan"]
    assert ovs["tunneling_ip"] == "10.0.0.2" and ovs["datapath_type"] == "system" and ovs["integration_bridge"] == "br-int"
    lb = configurations_for("linuxbridge", bridge_mappings={}, tunnel_types=[], tunneling_ip=None)
    assert "tunneling_ip" not in lb and lb["interface_mappings"] == {} and "datapath_type" not in lb
    dhcp = configurations_for("dhcp", bridge_mappings={}, tunnel_types=[], tunneling_ip=None, extra={"networks": 3})
    assert dhcp["networks"] == 3 and dhcp["dhcp_driver"].endswith("Dnsmasq")
    l3 = configurations_for("l3", bridge_mappings={}, tunnel_types=[], tunneling_ip=None, extra={"agent_mode": "dvr_snat"})
    assert l3["agent_mode"] == "dvr_snat" and l3["handle_internal_only_routers"] is True
