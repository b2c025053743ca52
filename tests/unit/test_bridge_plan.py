"""The Linux bridge agent's pure plan: layout from the projection, actions from the difference."""

from __future__ import annotations

import pytest

from neutrino.agent.l2 import bridge_plan as bp
from neutrino.contract.desired import BoundPort, DesiredHostState, FixedIP, RemotePort, Segment, TunnelPeer

pytestmark = pytest.mark.unit

NET_X = "11111111-aaaa-4aaa-8aaa-000000000001"
NET_F = "22222222-bbbb-4bbb-8bbb-000000000002"
NET_V = "33333333-cccc-4ccc-8ccc-000000000003"
VXLAN = Segment("vxlan", None, 1001, 1450)
FLAT = Segment("flat", "physnet1", None, 1500)
VLAN = Segment("vlan", "physnet1", 101, 1500)
CFG = bp.Settings({"physnet1": "eth1"}, "172.31.0.2", vlan_capable=False)


def port(pid: str, net: str, seg: Segment | None, up: bool = True) -> BoundPort:
    return BoundPort(pid, net, "fa:16:3e:00:00:01", up, "compute:nova", "vm", "bridge", seg,
                     (FixedIP("s", "10.0.0.5", "10.0.0.0/24", None),), True, (), (), (), 1)  # fmt: skip


def tap(pid: str) -> str:
    return "tap" + pid[:11]


P1 = "a1aaaaaa-0001-4000-8000-000000000001"
P2 = "a2aaaaaa-0002-4000-8000-000000000002"
P3 = "a3aaaaaa-0003-4000-8000-000000000003"

STATE = DesiredHostState(
    host="c1",
    ports=(port(P1, NET_X, VXLAN), port(P2, NET_F, FLAT), port(P3, NET_V, VLAN)),
    tunnel_peers=(TunnelPeer("c2", "vxlan", "172.31.0.3", (NET_X,)), TunnelPeer("n", "vxlan", "172.31.0.4", (NET_X,))),
    local_tunnel_ip="172.31.0.2",
    remote_ports=(
        RemotePort(NET_X, "fa:16:3e:00:00:02", ("10.0.0.6",), "172.31.0.3"),
        RemotePort(NET_X, "fa:16:3e:00:00:03", ("10.0.0.2", "fd00::2"), "172.31.0.4"),
        RemotePort(NET_F, "fa:16:3e:00:00:09", ("10.9.0.9",), "172.31.0.3"),  # not tunnelled: no entry
    ),
)


def test_names_fit_the_kernel_and_follow_neutron():
    assert bp.bridge_name(NET_X) == "brq11111111-aa"
    assert bp.vxlan_name(16_777_215) == "vxlan-16777215"
    assert bp.vlan_name("a-very-long-nic", 4094) == "a-very-lon.4094"


def test_layout_bridges_uplinks_and_l2population_entries():
    layout = bp.desired(STATE, {tap(P1), tap(P2), tap(P3)}, CFG)
    x, f = layout.bridges[bp.bridge_name(NET_X)], layout.bridges[bp.bridge_name(NET_F)]
    assert x.uplink == bp.Uplink("vxlan", "vxlan-1001", vni=1001) and x.mtu == 1450 and x.taps == (tap(P1),)
    assert f.uplink == bp.Uplink("physical", "eth1")
    assert layout.fdb["vxlan-1001"] == {
        (bp.FLOOD_MAC, "172.31.0.3"), (bp.FLOOD_MAC, "172.31.0.4"),
        ("fa:16:3e:00:00:02", "172.31.0.3"), ("fa:16:3e:00:00:03", "172.31.0.4"),
    }  # fmt: skip
    assert layout.neighbours["vxlan-1001"] == {
        ("10.0.0.6", "fa:16:3e:00:00:02"), ("10.0.0.2", "fa:16:3e:00:00:03"), ("fd00::2", "fa:16:3e:00:00:03"),
    }  # fmt: skip
    assert layout.wired == {P1, P2}


def test_vlan_refused_without_8021q_and_wired_with_it():
    layout = bp.desired(STATE, {tap(P3)}, CFG)
    assert "8021q" in layout.refused[P3] and not layout.bridges
    layout = bp.desired(STATE, {tap(P3)}, bp.Settings({"physnet1": "eth1"}, None, vlan_capable=True))
    assert layout.bridges[bp.bridge_name(NET_V)].uplink == bp.Uplink("vlan", "eth1.101", parent="eth1", vid=101)


def test_ports_wait_for_their_tap_and_admin_down_ports_stay_off():
    state = DesiredHostState(host="c1", ports=(port(P1, NET_X, VXLAN), port(P2, NET_X, VXLAN, up=False)))
    assert bp.desired(state, set(), CFG).bridges == {}
    layout = bp.desired(state, {tap(P1), tap(P2)}, CFG)
    assert layout.bridges[bp.bridge_name(NET_X)].taps == (tap(P1),) and layout.wired == {P1}


def test_unmapped_physnet_and_missing_tunnel_ip_are_refused_with_a_reason():
    layout = bp.desired(STATE, {tap(P1), tap(P2)}, bp.Settings({}, None, False))
    assert "tunneling_ip" in layout.refused[P1] and "physical_interface_mappings" in layout.refused[P2]


def link(name, kind=None, master=None, up=True, mtu=1500, vni=None, local=None):
    return bp.LinkState(name, kind, master, up, mtu, vni, local)


def test_plan_from_nothing_builds_everything_in_order():
    layout = bp.desired(STATE, {tap(P1), tap(P2)}, CFG)
    have = bp.KernelView({tap(P1): link(tap(P1), "veth"), tap(P2): link(tap(P2), "veth"), "eth1": link("eth1", "veth")}, {}, {})
    actions = [str(a) for a in bp.plan(layout, have, "172.31.0.2")]
    brx = bp.bridge_name(NET_X)
    assert actions.index(f"add_bridge {brx}") < actions.index("add_vxlan vxlan-1001 1001 172.31.0.2 1450 1")
    assert actions.index("add_vxlan vxlan-1001 1001 172.31.0.2 1450 1") < actions.index(f"set_master vxlan-1001 {brx}")
    assert f"set_master {tap(P1)} {brx}" in actions and f"set_up {tap(P1)} 1450" in actions
    assert f"set_master eth1 {bp.bridge_name(NET_F)}" in actions
    assert "fdb_add vxlan-1001 00:00:00:00:00:00 172.31.0.3" in actions
    assert "neigh_add vxlan-1001 10.0.0.6 fa:16:3e:00:00:02" in actions


def converged(layout: bp.Layout) -> bp.KernelView:
    links = {}
    for br in layout.bridges.values():
        links[br.bridge] = link(br.bridge, "bridge", mtu=br.mtu)
        if br.uplink:
            links[br.uplink.name] = link(br.uplink.name, br.uplink.kind if br.uplink.kind == "vxlan" else "veth", br.bridge,
                                         mtu=br.mtu, vni=br.uplink.vni, local="172.31.0.2")  # fmt: skip
        for t in br.taps:
            links[t] = link(t, "veth", br.bridge, mtu=br.mtu)
    return bp.KernelView(links, dict(layout.fdb), dict(layout.neighbours))


def test_a_converged_host_needs_nothing_restart_changes_nothing():
    layout = bp.desired(STATE, {tap(P1), tap(P2)}, CFG)
    assert bp.plan(layout, converged(layout), "172.31.0.2") == []


def test_only_the_difference_of_entries_and_stale_owned_devices_go():
    layout = bp.desired(STATE, {tap(P1), tap(P2)}, CFG)
    have = converged(layout)
    have.fdb["vxlan-1001"] = have.fdb["vxlan-1001"] - {("fa:16:3e:00:00:02", "172.31.0.3")} | {("fa:16:3e:00:00:77", "172.31.0.9")}
    have.links["vxlan-2002"] = link("vxlan-2002", "vxlan", "brqdead", vni=2002, local="172.31.0.2")
    have.links["brqdead"] = link("brqdead", "bridge")
    have.links["br-foreign"] = link("br-foreign", "bridge")
    have.links["tapgone"] = link("tapgone", "veth", bp.bridge_name(NET_X))
    actions = [str(a) for a in bp.plan(layout, have, "172.31.0.2")]
    assert actions == [
        "fdb_add vxlan-1001 fa:16:3e:00:00:02 172.31.0.3",
        "fdb_del vxlan-1001 fa:16:3e:00:00:77 172.31.0.9",
        "release tapgone",
        "del_link brqdead",
        "del_link vxlan-2002",
    ]


def test_a_vxlan_device_with_another_vni_or_local_address_is_replaced():
    layout = bp.desired(STATE, {tap(P1)}, CFG)
    have = converged(layout)
    have.links["vxlan-1001"] = link("vxlan-1001", "vxlan", bp.bridge_name(NET_X), mtu=1450, vni=1001, local="172.31.0.99")
    actions = [str(a) for a in bp.plan(layout, have, "172.31.0.2")]
    assert actions[:3] == ["del_link vxlan-1001", "add_vxlan vxlan-1001 1001 172.31.0.2 1450 1",
                           f"set_master vxlan-1001 {bp.bridge_name(NET_X)}"]  # fmt: skip


def test_without_arp_proxy_no_neighbour_entries_and_the_device_floods_arp():
    """A mixed cloud: the kernel's proxy would swallow ARP replies to OVS hosts."""
    cfg = bp.Settings({"physnet1": "eth1"}, "172.31.0.2", vlan_capable=False, arp_proxy=False)
    layout = bp.desired(STATE, {tap(P1)}, cfg)
    assert layout.neighbours["vxlan-1001"] == frozenset() and len(layout.fdb["vxlan-1001"]) == 4
    have = bp.KernelView({tap(P1): link(tap(P1), "veth")}, {}, {})
    assert "add_vxlan vxlan-1001 1001 172.31.0.2 1450 0" in [str(a) for a in bp.plan(layout, have, "172.31.0.2", False)]
