"""The L2 agent's flow tables as golden data (Neutron's tables, docs/neutron-behaviour.md)."""

from __future__ import annotations

import pytest

from neutrino.agent.l2.local_vlans import LocalVlan
from neutrino.agent.l2.ovs_flows import (
    LEARN_COOKIE,
    L2Layout,
    arp_entries_from_remote_ports,
    arp_reply_actions,
    desired_flows,
    flood_from_peers,
    patch_ports_needed,
    tunnel_port_options,
)
from neutrino.dataplane.naming import tunnel_port
from neutrino.dataplane.openflow import COOKIE, Flow, table_text
from neutrino.contract.desired import RemotePort, TunnelPeer

pytestmark = pytest.mark.unit

C = f"{COOKIE:#x}"
P2, P3, P4 = "172.31.0.2", "172.31.0.3", "172.31.0.4"
PORTS = {ip: tunnel_port("vxlan", ip) for ip in (P2, P3, P4)}  # vxlan-ac1f0002 ...
NETS = {
    "net-vlan": LocalVlan("net-vlan", 10, "vlan", "physnet1", 100),
    "net-flat": LocalVlan("net-flat", 12, "flat", "physnet1", None),
    "net-vx": LocalVlan("net-vx", 11, "vxlan", None, 1000),
    "net-vx2": LocalVlan("net-vx2", 13, "vxlan", None, 1001),
    "net-local": LocalVlan("net-local", 14, "local", None, None),
    "net-nobridge": LocalVlan("net-nobridge", 15, "vlan", "physnet9", 333),
}
LAYOUT = L2Layout(
    physnet_bridges={"physnet1": "br-eth1"},
    local_vlans=NETS,
    tunnel_ports=PORTS,
    flood={"net-vx": (P3, P2), "net-vx2": ()},  # P4 shares no network here
)
LEARN = (
    f"learn(table=20,hard_timeout=300,priority=1,cookie={LEARN_COOKIE:#x},NXM_OF_VLAN_TCI[0..11],"
    "NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],load:0->NXM_OF_VLAN_TCI[],load:NXM_NX_TUN_ID[]->NXM_NX_TUN_ID[],"
    "output:OXM_OF_IN_PORT[]),output:patch-int"
)


def test_bridges() -> None:
    assert list(desired_flows(LAYOUT)) == ["br-int", "br-eth1", "br-tun"]
    assert list(desired_flows(L2Layout(tunnel_bridge=None))) == ["br-int"]


def test_br_int_golden() -> None:
    assert desired_flows(LAYOUT)["br-int"] == [
        Flow(0, 0, "", "resubmit(,60)"),
        Flow(0, 2, "in_port=int-br-eth1", "drop"),
        Flow(0, 3, "in_port=int-br-eth1,dl_vlan=100", "set_field:4106->vlan_vid,resubmit(,60)"),
        Flow(0, 3, "in_port=int-br-eth1,vlan_tci=0x0000/0x1fff", "push_vlan:0x8100,set_field:4108->vlan_vid,resubmit(,60)"),
        Flow(0, 65535, "dl_vlan=4095", "drop"),
        Flow(23, 0, "", "drop"),
        Flow(60, 1, "", "NORMAL"),
    ]


def test_dead_vlan_and_canary_always_present() -> None:
    flows = desired_flows(L2Layout(tunnel_bridge=None))["br-int"]
    assert Flow(0, 65535, "dl_vlan=4095", "drop") in flows
    assert Flow(23, 0, "", "drop") in flows


def test_physnet_bridge_golden() -> None:
    assert desired_flows(LAYOUT)["br-eth1"] == [
        Flow(0, 0, "", "NORMAL"),
        Flow(0, 2, "in_port=phy-br-eth1", "drop"),
        Flow(0, 4, "in_port=phy-br-eth1,dl_vlan=10", "set_field:4196->vlan_vid,NORMAL"),
        Flow(0, 4, "in_port=phy-br-eth1,dl_vlan=12", "pop_vlan,NORMAL"),
    ]


def test_br_tun_golden() -> None:
    assert desired_flows(LAYOUT)["br-tun"] == [
        Flow(0, 0, "", "drop"),
        Flow(0, 1, "in_port=patch-int", "resubmit(,2)"),
        Flow(0, 1, "in_port=vxlan-ac1f0002", "resubmit(,4)"),
        Flow(0, 1, "in_port=vxlan-ac1f0003", "resubmit(,4)"),
        Flow(0, 1, "in_port=vxlan-ac1f0004", "resubmit(,4)"),
        Flow(2, 0, "dl_dst=00:00:00:00:00:00/01:00:00:00:00:00", "resubmit(,20)"),
        Flow(2, 0, "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00", "resubmit(,22)"),
        Flow(4, 0, "", "drop"),
        Flow(4, 1, "tun_id=1000", "push_vlan:0x8100,set_field:4107->vlan_vid,resubmit(,10)"),
        Flow(4, 1, "tun_id=1001", "push_vlan:0x8100,set_field:4109->vlan_vid,resubmit(,10)"),
        Flow(10, 1, "", LEARN),
        Flow(20, 0, "", "resubmit(,22)"),
        Flow(22, 0, "", "drop"),
        # only the peers sharing net-vx, sorted; net-vx2 floods nowhere so it has no flow
        Flow(22, 1, "dl_vlan=11", "pop_vlan,set_field:0x3e8->tun_id,output:vxlan-ac1f0002,output:vxlan-ac1f0003"),
    ]


def test_local_network_and_unbridged_physnet_get_no_flows() -> None:
    text = "".join(table_text(flows) for flows in desired_flows(LAYOUT).values())
    for absent in ("dl_vlan=14", "set_field:4110->vlan_vid", "dl_vlan=15", "set_field:4111->vlan_vid", "333"):
        assert absent not in text
    only_local = L2Layout(local_vlans={"l": NETS["net-local"]}, tunnel_bridge=None)
    assert desired_flows(only_local) == desired_flows(L2Layout(tunnel_bridge=None))


def test_br_tun_base_tables_without_tunnel_networks() -> None:
    flows = desired_flows(L2Layout())["br-tun"]
    assert [(f.table, f.priority) for f in flows] == [(0, 0), (0, 1), (2, 0), (2, 0), (4, 0), (10, 1), (20, 0), (22, 0)]


def test_geneve_uses_table_6_and_ignores_vxlan_networks() -> None:
    layout = L2Layout(
        local_vlans={"g": LocalVlan("g", 5, "geneve", None, 77), "v": NETS["net-vx"]},
        tunnel_ports={P2: "geneve-ac1f0002"}, flood={"g": (P2,), "net-vx": (P2,)}, tunnel_type="geneve",
    )
    tun = desired_flows(layout)["br-tun"]
    assert Flow(0, 1, "in_port=geneve-ac1f0002", "resubmit(,6)") in tun
    assert Flow(6, 1, "tun_id=77", "push_vlan:0x8100,set_field:4101->vlan_vid,resubmit(,10)") in tun
    assert Flow(22, 1, "dl_vlan=5", "pop_vlan,set_field:0x4d->tun_id,output:geneve-ac1f0002") in tun
    assert not any("1000" in f.match or "1000" in f.actions for f in tun)


def test_bad_layouts_are_rejected() -> None:
    with pytest.raises(ValueError, match="tunnel type"):
        desired_flows(L2Layout(tunnel_type="stt"))
    with pytest.raises(ValueError, match="used twice"):
        desired_flows(L2Layout(physnet_bridges={"a": "br-x", "b": "br-x"}))


def test_rendered_strings() -> None:
    flows = desired_flows(LAYOUT)
    rendered = {f.render() for bridge in flows.values() for f in bridge}
    assert f"cookie={C},table=0,priority=65535,dl_vlan=4095,actions=drop" in rendered
    assert f"cookie={C},table=23,priority=0,actions=drop" in rendered
    assert (f"cookie={C},table=0,priority=3,in_port=int-br-eth1,vlan_tci=0x0000/0x1fff,"
            "actions=push_vlan:0x8100,set_field:4108->vlan_vid,resubmit(,60)") in rendered
    assert f"cookie={C},table=0,priority=4,in_port=phy-br-eth1,dl_vlan=10,actions=set_field:4196->vlan_vid,NORMAL" in rendered
    assert f"cookie={C},table=4,priority=1,tun_id=1000,actions=push_vlan:0x8100,set_field:4107->vlan_vid,resubmit(,10)" in rendered
    assert f"cookie={C},table=10,priority=1,actions={LEARN}" in rendered
    assert LEARN_COOKIE != COOKIE


def test_patch_ports_needed() -> None:
    assert patch_ports_needed(LAYOUT) == [
        ("br-int", "int-br-eth1", "phy-br-eth1"), ("br-eth1", "phy-br-eth1", "int-br-eth1"),
        ("br-int", "patch-tun", "patch-int"), ("br-tun", "patch-int", "patch-tun"),
    ]
    assert patch_ports_needed(L2Layout(tunnel_bridge=None)) == []


def test_tunnel_port_options() -> None:
    assert tunnel_port_options(P3, P2) == {
        "remote_ip": P3, "local_ip": P2, "key": "flow", "in_key": "flow", "out_key": "flow",
        "dst_port": "4789", "df_default": "true",
    }
    assert "dst_port" not in tunnel_port_options(P3, P2, "geneve")


def test_flood_from_peers() -> None:
    peers = [
        TunnelPeer("c3", "vxlan", "172.31.0.10", ("net-vx",)),
        TunnelPeer("c2", "vxlan", P3, ("net-vx", "net-vx2")),
        TunnelPeer("g", "geneve", P4, ("net-vx",)),
    ]
    assert flood_from_peers(peers) == {"net-vx": (P3, "172.31.0.10"), "net-vx2": (P3,)}


def test_arp_responder_flows() -> None:
    """Broadcast ARP from br-int goes through table 21, which answers the remote ports it knows
    (per local VLAN) and floods the rest; without the switch no table 21 exists."""
    entries = {"net-vx": (("10.0.0.5", "fa:16:3e:00:00:05"),), "net-vlan": (("10.9.0.9", "fa:16:3e:00:00:09"),)}
    on = L2Layout(local_vlans=NETS, tunnel_ports=PORTS, flood=LAYOUT.flood, arp_responder=True, arp_entries=entries)
    tun = desired_flows(on)["br-tun"]
    assert Flow(2, 1, "arp,dl_dst=ff:ff:ff:ff:ff:ff", "resubmit(,21)") in tun
    assert Flow(21, 0, "", "resubmit(,22)") in tun
    answers = [f for f in tun if f.table == 21 and f.priority == 1]
    assert answers == [Flow(21, 1, "arp,dl_vlan=11,arp_op=1,arp_tpa=10.0.0.5", arp_reply_actions("10.0.0.5", "fa:16:3e:00:00:05"))]
    # a gratuitous request for that address (keepalived on an HA router's new active side) floods
    assert [f for f in tun if f.table == 21 and f.priority == 2] == [
        Flow(21, 2, "arp,dl_vlan=11,arp_op=1,arp_tpa=10.0.0.5,arp_spa=10.0.0.5", "resubmit(,22)")]
    off = desired_flows(L2Layout(local_vlans=NETS, tunnel_ports=PORTS, flood=LAYOUT.flood, arp_entries=entries))["br-tun"]
    assert not [f for f in off if f.table == 21 or "arp" in f.match]


def test_arp_reply_actions() -> None:
    assert arp_reply_actions("10.0.0.5", "fa:16:3e:00:00:05") == (
        "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],set_field:fa:16:3e:00:00:05->eth_src,load:0x2->NXM_OF_ARP_OP[],"
        "move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],"
        "load:0xfa163e000005->NXM_NX_ARP_SHA[],load:0xa000005->NXM_OF_ARP_SPA[],in_port"
    )


def test_arp_entries_from_remote_ports() -> None:
    """IPv4 only; an address two MACs claim is left to flooding."""
    ports = [
        RemotePort("n1", "FA:16:3E:00:00:01", ("10.0.0.10", "fd00::10"), P2),
        RemotePort("n1", "fa:16:3e:00:00:02", ("10.0.0.2", "10.0.0.99"), P3),
        RemotePort("n1", "fa:16:3e:00:00:03", ("10.0.0.99",), P3),
        RemotePort("n2", "fa:16:3e:00:00:04", ("10.0.0.2",), P4),
    ]
    assert arp_entries_from_remote_ports(ports) == {
        "n1": (("10.0.0.2", "fa:16:3e:00:00:02"), ("10.0.0.10", "fa:16:3e:00:00:01")),
        "n2": (("10.0.0.2", "fa:16:3e:00:00:04"),),
    }
