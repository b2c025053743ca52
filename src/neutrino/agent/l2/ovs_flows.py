"""The desired OpenFlow table of every bridge of the L2 agent, as data.

The agent is level-triggered: each pass computes the *whole* table of each bridge from the host's
layout and hands it to ``OpenFlow.apply``, which installs the difference. Nothing here talks to
OVS, so the tables can be checked against golden values without root.

Tables follow Neutron's, reduced to what neutrino implements and checked on OVS 3.1 with the
userspace datapath (docs/neutron-behaviour.md, "OVS agent: bridges and OpenFlow tables"):

* br-int 0: drop the dead VLAN; physnet patch ingress translates segment -> lvid (prio 3), else
  drop (prio 2); everything else -> 60. 23: the canary drop flow, whose absence tells the agent
  vswitchd restarted and lost every flow (docs/dataplane.md). 60: NORMAL.
* br-<physnet> 0: lvid -> segment (VLAN id, or untagged for flat) from the patch (prio 4), other
  patch traffic dropped (prio 2), the NIC side NORMAL.
* br-tun 0: from br-int -> 2, from a tunnel -> 4 (vxlan) / 6 (geneve) / 3 (gre). 2: unicast -> 20,
  multicast -> 22, broadcast ARP -> 21 (with the ARP responder). 4: VNI -> lvid -> 10. 10: learn
  the source MAC into 20, then to br-int. 20: learned unicast, default -> 22. 21: ARP requests for
  remote ports' addresses answered here, back to br-int; the rest -> 22. 22: flood to the tunnels
  of the peers sharing the network.

Actions are written as OpenFlow 1.3+ spells them: ``pop_vlan``, ``set_field:<4096|vid>->vlan_vid``
(after ``push_vlan:0x8100`` where the packet arrives untagged), ``set_field:...->eth_src`` and
``->tun_id``, not Neutron's ``strip_vlan``, ``mod_vlan_vid``, ``mod_dl_src`` and ``set_tunnel``:
the bundles speak OpenFlow 1.4, and ``replace-flows`` compares the actions as the switch returns
them, so the older spellings would make every agent restart rewrite those flows (docs/dataplane.md,
"A restarted agent rewrites no flow"). The effect is the same: ovs-ofctl encodes the older
spellings into exactly these actions.

Port names (``in_port=patch-int``) are resolved by ovs-ofctl, so the ports must exist before the
flows are applied: create ``patch_ports_needed`` and the tunnel ports first.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from neutrino.agent.l2.local_vlans import DEAD_VLAN, LocalVlan
from neutrino.dataplane.naming import patch_ports
from neutrino.dataplane.openflow import Flow
from neutrino.contract.desired import RemotePort, TunnelPeer

INT_PEER_PATCH_PORT = "patch-tun"  # on br-int
TUN_PEER_PATCH_PORT = "patch-int"  # on br-tun
LEARN_COOKIE = 0x6E74_6C65_6172_6E64  # "ntlearnd": learned flows, distinct from COOKIE so diffs skip them
LEARN_HARD_TIMEOUT = 300
VXLAN_UDP_PORT = 4789

# br-int
LOCAL_SWITCHING, CANARY_TABLE, TRANSIENT_TABLE = 0, 23, 60
# br-tun
PATCH_LV_TO_TUN, LEARN_FROM_TUN, UCAST_TO_TUN, ARP_RESPONDER, FLOOD_TO_TUN = 2, 10, 20, 21, 22
TUN_TO_LV = {"gre": 3, "vxlan": 4, "geneve": 6}
TUNNEL_TYPES = frozenset(TUN_TO_LV)

UNICAST = "dl_dst=00:00:00:00:00:00/01:00:00:00:00:00"
MULTICAST = "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00"
BROADCAST_ARP = "arp,dl_dst=ff:ff:ff:ff:ff:ff"

ArpEntries = Mapping[str, tuple[tuple[str, str], ...]]
"""network_id -> sorted (IPv4 address, MAC) of the ports bound on the tunnel peers (l2population)."""
UNTAGGED = "vlan_tci=0x0000/0x1fff"


def set_vlan(vid: int, *, push: bool) -> str:
    """Give the packet VLAN ``vid``: rewrite its tag, or ``push`` one onto an untagged packet."""
    return ("push_vlan:0x8100," if push else "") + f"set_field:{4096 | vid}->vlan_vid"


@dataclass(frozen=True)
class L2Layout:
    """What the flows of one host depend on.

    ``physnet_bridges``: physnet -> bridge (bridge_mappings). ``tunnel_ports``: remote tunnel IP ->
    OVS port name on br-tun. ``flood``: network_id -> remote IPs of the peers that share it.
    ``tunnel_bridge=None``: no tunnelling on this host. A vlan/flat network whose physnet has no
    bridge, and a tunnel network of another type than ``tunnel_type``, get no flows (nothing here
    could carry them). ``arp_entries``: answered by br-tun's ARP responder (table 21) when
    ``arp_responder`` is on, so those requests never cross a tunnel (docs/dataplane.md)."""

    integration_bridge: str = "br-int"
    tunnel_bridge: str | None = "br-tun"
    physnet_bridges: Mapping[str, str] = field(default_factory=dict)
    local_vlans: Mapping[str, LocalVlan] = field(default_factory=dict)
    tunnel_ports: Mapping[str, str] = field(default_factory=dict)
    flood: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    tunnel_type: str = "vxlan"
    arp_responder: bool = False
    arp_entries: ArpEntries = field(default_factory=dict)


def _check(layout: L2Layout) -> None:
    if layout.tunnel_type not in TUN_TO_LV:
        raise ValueError(f"unknown tunnel type {layout.tunnel_type!r} (one of {sorted(TUNNEL_TYPES)})")
    bridges = list(layout.physnet_bridges.values())
    names = [layout.integration_bridge, layout.tunnel_bridge, *bridges]
    if len(set(bridges)) != len(bridges) or layout.integration_bridge in bridges or layout.tunnel_bridge in bridges:
        raise ValueError(f"a bridge is used twice in the L2 layout: {names}")


def _physnet_networks(layout: L2Layout, physnet: str) -> list[LocalVlan]:
    return sorted(
        (lv for lv in layout.local_vlans.values()
         if lv.physical_network == physnet and (lv.network_type == "flat" or
                                                (lv.network_type == "vlan" and lv.segmentation_id is not None))),
        key=lambda lv: lv.lvid,
    )


def _tunnel_networks(layout: L2Layout) -> list[LocalVlan]:
    return sorted(
        (lv for lv in layout.local_vlans.values()
         if lv.network_type == layout.tunnel_type and lv.segmentation_id is not None),
        key=lambda lv: lv.lvid,
    )


def integration_flows(layout: L2Layout) -> list[Flow]:
    flows = [
        Flow(LOCAL_SWITCHING, 65535, f"dl_vlan={DEAD_VLAN}", "drop"),
        Flow(LOCAL_SWITCHING, 0, "", f"resubmit(,{TRANSIENT_TABLE})"),
        Flow(CANARY_TABLE, 0, "", "drop"),
        Flow(TRANSIENT_TABLE, 1, "", "NORMAL"),
    ]
    for physnet, bridge in layout.physnet_bridges.items():
        int_port, _ = patch_ports(bridge)
        flows.append(Flow(LOCAL_SWITCHING, 2, f"in_port={int_port}", "drop"))
        for lv in _physnet_networks(layout, physnet):
            wire = UNTAGGED if lv.network_type == "flat" else f"dl_vlan={lv.segmentation_id}"
            flows.append(Flow(LOCAL_SWITCHING, 3, f"in_port={int_port},{wire}",
                              f"{set_vlan(lv.lvid, push=wire == UNTAGGED)},resubmit(,{TRANSIENT_TABLE})"))
    return sorted(flows)


def physnet_flows(layout: L2Layout, physnet: str) -> list[Flow]:
    _, phy_port = patch_ports(layout.physnet_bridges[physnet])
    flows = [Flow(0, 2, f"in_port={phy_port}", "drop"), Flow(0, 0, "", "NORMAL")]
    for lv in _physnet_networks(layout, physnet):
        to_wire = "pop_vlan" if lv.network_type == "flat" else set_vlan(lv.segmentation_id, push=False)  # type: ignore[arg-type]
        flows.append(Flow(0, 4, f"in_port={phy_port},dl_vlan={lv.lvid}", f"{to_wire},NORMAL"))
    return sorted(flows)


def learn_action() -> str:
    """Learning (br-tun table 10): remember "this MAC on this lvid lives behind this tunnel, with this VNI"."""
    return (
        f"learn(table={UCAST_TO_TUN},hard_timeout={LEARN_HARD_TIMEOUT},priority=1,cookie={LEARN_COOKIE:#x},"
        "NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],load:0->NXM_OF_VLAN_TCI[],"
        "load:NXM_NX_TUN_ID[]->NXM_NX_TUN_ID[],output:OXM_OF_IN_PORT[])"
    )


def arp_reply_actions(ip: str, mac: str) -> str:
    """Turn an ARP request for ``ip`` into the reply ``mac`` would send, back out where it came
    from (Neutron's ARP responder, docs/neutron-behaviour.md): Ethernet and ARP source become the
    owner, the asker becomes the target."""
    return (
        f"move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],set_field:{mac}->eth_src,load:0x2->NXM_OF_ARP_OP[],"
        f"move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],"
        f"load:{int(mac.replace(':', ''), 16):#x}->NXM_NX_ARP_SHA[],"
        f"load:{int(ipaddress.IPv4Address(ip)):#x}->NXM_OF_ARP_SPA[],in_port"
    )


def tunnel_flows(layout: L2Layout) -> list[Flow]:
    tun_table = TUN_TO_LV[layout.tunnel_type]
    flows = [
        Flow(0, 1, f"in_port={TUN_PEER_PATCH_PORT}", f"resubmit(,{PATCH_LV_TO_TUN})"),
        Flow(0, 0, "", "drop"),
        Flow(PATCH_LV_TO_TUN, 0, UNICAST, f"resubmit(,{UCAST_TO_TUN})"),
        Flow(PATCH_LV_TO_TUN, 0, MULTICAST, f"resubmit(,{FLOOD_TO_TUN})"),
        Flow(tun_table, 0, "", "drop"),
        Flow(LEARN_FROM_TUN, 1, "", f"{learn_action()},output:{TUN_PEER_PATCH_PORT}"),
        Flow(UCAST_TO_TUN, 0, "", f"resubmit(,{FLOOD_TO_TUN})"),
        Flow(FLOOD_TO_TUN, 0, "", "drop"),
    ]
    flows += [Flow(0, 1, f"in_port={port}", f"resubmit(,{tun_table})") for port in set(layout.tunnel_ports.values())]
    if layout.arp_responder:
        flows += [Flow(PATCH_LV_TO_TUN, 1, BROADCAST_ARP, f"resubmit(,{ARP_RESPONDER})"),
                  Flow(ARP_RESPONDER, 0, "", f"resubmit(,{FLOOD_TO_TUN})")]
    for lv in _tunnel_networks(layout):
        if layout.arp_responder:
            for ip, mac in layout.arp_entries.get(lv.network_id, ()):
                asks = f"arp,dl_vlan={lv.lvid},arp_op=1,arp_tpa={ip}"
                flows.append(Flow(ARP_RESPONDER, 1, asks, arp_reply_actions(ip, mac)))
                # a gratuitous request (sender = target: an HA router's new active side announcing
                # its address) is news for the peers, not a question: it floods, never answered here
                flows.append(Flow(ARP_RESPONDER, 2, f"{asks},arp_spa={ip}", f"resubmit(,{FLOOD_TO_TUN})"))
        flows.append(Flow(tun_table, 1, f"tun_id={lv.segmentation_id}",
                          f"{set_vlan(lv.lvid, push=True)},resubmit(,{LEARN_FROM_TUN})"))
        ports = sorted({layout.tunnel_ports[ip] for ip in layout.flood.get(lv.network_id, ()) if ip in layout.tunnel_ports})
        if ports:
            outputs = ",".join(f"output:{port}" for port in ports)
            flows.append(Flow(FLOOD_TO_TUN, 1, f"dl_vlan={lv.lvid}",
                              f"pop_vlan,set_field:{lv.segmentation_id:#x}->tun_id,{outputs}"))
    return sorted(flows)


def desired_flows(layout: L2Layout) -> dict[str, list[Flow]]:
    """bridge -> its whole desired flow table (sorted): br-int, every physnet bridge, and br-tun
    when ``tunnel_bridge`` is set (its base tables even with no tunnel network yet, so a peer's
    first packet finds a table that drops rather than one that is missing)."""
    _check(layout)
    out = {layout.integration_bridge: integration_flows(layout)}
    for physnet, bridge in sorted(layout.physnet_bridges.items()):
        out[bridge] = physnet_flows(layout, physnet)
    if layout.tunnel_bridge is not None:
        out[layout.tunnel_bridge] = tunnel_flows(layout)
    return out


def patch_ports_needed(layout: L2Layout) -> list[tuple[str, str, str]]:
    """(bridge, port, peer) of every patch port the layout's flows use, both ends of each pair."""
    out: list[tuple[str, str, str]] = []
    for _, bridge in sorted(layout.physnet_bridges.items()):
        int_port, phy_port = patch_ports(bridge)
        out += [(layout.integration_bridge, int_port, phy_port), (bridge, phy_port, int_port)]
    if layout.tunnel_bridge is not None:
        out += [(layout.integration_bridge, INT_PEER_PATCH_PORT, TUN_PEER_PATCH_PORT),
                (layout.tunnel_bridge, TUN_PEER_PATCH_PORT, INT_PEER_PATCH_PORT)]
    return out


def tunnel_port_options(remote_ip: str, local_ip: str, tunnel_type: str = "vxlan") -> dict[str, str]:
    """Interface options of a tunnel port on br-tun, as Neutron sets them (docs/dataplane.md, "Tunnel endpoints"): the VNI comes
    from the flow (``set_tunnel`` / ``tun_id``), DF set; dst_port only for vxlan (4789; OVS's own
    default for the other types)."""
    options = {"remote_ip": remote_ip, "local_ip": local_ip, "key": "flow", "in_key": "flow", "out_key": "flow"}
    if tunnel_type == "vxlan":
        options["dst_port"] = str(VXLAN_UDP_PORT)
    options["df_default"] = "true"
    return options


def flood_from_peers(peers: Iterable[TunnelPeer], tunnel_type: str = "vxlan") -> dict[str, tuple[str, ...]]:
    """network_id -> sorted remote IPs of the peers (of ``tunnel_type``) that share it: ``flood``."""
    out: dict[str, set[str]] = {}
    for peer in peers:
        if peer.tunnel_type == tunnel_type:
            for network_id in peer.network_ids:
                out.setdefault(network_id, set()).add(peer.ip_address)
    return {network_id: tuple(sorted(ips, key=_ip_order)) for network_id, ips in sorted(out.items())}


def arp_entries_from_remote_ports(remote_ports: Iterable[RemotePort]) -> dict[str, tuple[tuple[str, str], ...]]:
    """``arp_entries`` from the l2population view: every IPv4 address of every remote port (an
    address claimed by two MACs is left out: flooding finds the live one)."""
    owners: dict[tuple[str, str], set[str]] = {}
    for rp in remote_ports:
        for ip in rp.ip_addresses:
            if ipaddress.ip_address(ip).version == 4:
                owners.setdefault((rp.network_id, ip), set()).add(rp.mac_address.lower())
    out: dict[str, list[tuple[str, str]]] = {}
    for (network_id, ip), macs in owners.items():
        if len(macs) == 1:
            out.setdefault(network_id, []).append((ip, next(iter(macs))))
    return {n: tuple(sorted(e, key=lambda pair: _ip_order(pair[0]))) for n, e in sorted(out.items())}


def _ip_order(ip: str) -> tuple[int, int]:
    addr = ipaddress.ip_address(ip)
    return (addr.version, int(addr))
