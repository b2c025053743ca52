"""The Linux bridge agent's plan: desired host state and what the kernel has in, actions out.

Neutron's linuxbridge model: one bridge ``brq<11 of the network id>`` per network present on
the host; its uplink is a kernel ``vxlan-<vni>`` device (VXLAN), the mapped physical interface
(flat) or that interface's VLAN subinterface ``<if>.<vid>`` (VLAN, only where the kernel has
8021q); every port's ``tap<11>`` (instance, DHCP, router) is a port of it. VXLAN runs with
l2population and no multicast: the device does not learn, an all-zero FDB entry per peer that
shares the network floods broadcasts to exactly those peers, a static entry per remote MAC sends
unicast straight to its host, and ARP/ND for remote addresses is answered by the device's proxy
from permanent neighbour entries.

Pure: ``desired`` builds the wanted layout from the server's projection and the taps present,
``plan`` compares it with ``KernelView`` (what the adapter read) and returns actions as data,
each of them idempotent when applied. Only names this agent owns (``brq*``, ``vxlan-*``) are
ever deleted; a tap is only moved onto its own network's bridge.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from neutrino.contract.desired import BoundPort, DesiredHostState
from neutrino.dataplane.naming import IFNAMSIZ, TAP, device

BRIDGE_PREFIX = "brq"
VXLAN_PREFIX = "vxlan-"
FLOOD_MAC = "00:00:00:00:00:00"
VXLAN_PORT = 4789
VXLAN_OVERHEAD = 50
MAX_VNI = (1 << 24) - 1


def bridge_name(network_id: str) -> str:
    return device(BRIDGE_PREFIX, network_id)


def vxlan_name(vni: int) -> str:
    """``vxlan-<vni>`` (at most 8 digits: fits IFNAMSIZ)."""
    return f"{VXLAN_PREFIX}{vni}"


def vlan_name(interface: str, vid: int) -> str:
    """``<if>.<vid>``, the interface cut so that the name fits (as Neutron)."""
    suffix = f".{vid}"
    return interface[: IFNAMSIZ - len(suffix)] + suffix


@dataclass(frozen=True)
class Uplink:
    kind: str  # "vxlan", "physical", "vlan"
    name: str
    vni: int | None = None
    parent: str | None = None
    vid: int | None = None


@dataclass(frozen=True)
class NetworkBridge:
    network_id: str
    bridge: str
    mtu: int
    uplink: Uplink | None
    taps: tuple[str, ...]


@dataclass
class Layout:
    """What the host should have: bridges with members, VXLAN forwarding and proxy entries."""

    bridges: dict[str, NetworkBridge] = field(default_factory=dict)
    fdb: dict[str, frozenset[tuple[str, str]]] = field(default_factory=dict)
    """vxlan device -> {(mac, remote tunnel ip)}, the flood entries included."""
    neighbours: dict[str, frozenset[tuple[str, str]]] = field(default_factory=dict)
    """vxlan device -> {(ip, mac)} answered by the device's ARP/ND proxy."""
    wired: frozenset[str] = frozenset()
    """Port ids whose tap will be on its bridge after the plan is applied."""
    refused: dict[str, str] = field(default_factory=dict)
    """Port id -> why this host cannot wire it."""


@dataclass(frozen=True)
class Settings:
    interface_mappings: Mapping[str, str]
    local_ip: str | None
    vlan_capable: bool
    arp_proxy: bool = True
    """Answer ARP/ND for remote ports on this host. The kernel's proxy also swallows every
    ARP reply sent into the tunnel, so with peers that do not answer ARP themselves (an OVS
    agent without ARP responder, in a mixed cloud) it must be off: requests then flood."""


def uplink_for(port: BoundPort, cfg: Settings) -> Uplink | str:
    """The port's network uplink, or the reason there is none (a string)."""
    seg = port.segment
    if seg is None:
        return "no segment"
    if seg.network_type == "vxlan":
        if not cfg.local_ip:
            return "VXLAN network but this agent has no tunneling_ip"
        if seg.segmentation_id is None or not 0 < seg.segmentation_id <= MAX_VNI:
            return f"VXLAN segment without a valid VNI ({seg.segmentation_id})"
        return Uplink("vxlan", vxlan_name(seg.segmentation_id), vni=seg.segmentation_id)
    if seg.network_type in ("flat", "vlan"):
        nic = cfg.interface_mappings.get(seg.physical_network or "")
        if nic is None:
            return f"physical network {seg.physical_network} is not in physical_interface_mappings"
        if seg.network_type == "flat":
            return Uplink("physical", nic)
        if not cfg.vlan_capable:
            return "VLAN network but this kernel has no 8021q (VLAN subinterfaces)"
        vid = int(seg.segmentation_id or 0)
        return Uplink("vlan", vlan_name(nic, vid), parent=nic, vid=vid)
    if seg.network_type == "local":
        return Uplink("local", "")
    return f"network type {seg.network_type} is not supported by the Linux bridge agent"


def desired(state: DesiredHostState, present_taps: Iterable[str], cfg: Settings) -> Layout:
    """The layout for the ports bound here whose tap exists (a VIF not plugged yet waits)."""
    taps = set(present_taps)
    layout = Layout()
    members: dict[str, list[str]] = {}
    uplinks: dict[str, Uplink | None] = {}
    mtus: dict[str, int] = {}
    wired: set[str] = set()
    for port in sorted(state.ports, key=lambda p: p.port_id):
        tap = device(TAP, port.port_id)
        if tap not in taps or not port.admin_state_up:
            continue
        up = uplink_for(port, cfg)
        if isinstance(up, str):
            layout.refused[port.port_id] = up
            continue
        members.setdefault(port.network_id, []).append(tap)
        uplinks[port.network_id] = up if up.kind != "local" else None
        if port.segment is not None:
            mtus[port.network_id] = port.segment.mtu
        wired.add(port.port_id)
    for network_id, taps_of in members.items():
        name = bridge_name(network_id)
        layout.bridges[name] = NetworkBridge(network_id, name, mtus.get(network_id, 1500), uplinks[network_id], tuple(sorted(taps_of)))
    vxlan_of = {b.network_id: b.uplink.name for b in layout.bridges.values() if b.uplink and b.uplink.kind == "vxlan"}
    fdb: dict[str, set[tuple[str, str]]] = {dev: set() for dev in vxlan_of.values()}
    neigh: dict[str, set[tuple[str, str]]] = {dev: set() for dev in vxlan_of.values()}
    for peer in state.tunnel_peers:
        if peer.tunnel_type != "vxlan" or peer.ip_address == cfg.local_ip:
            continue
        for network_id in peer.network_ids:
            if network_id in vxlan_of:
                fdb[vxlan_of[network_id]].add((FLOOD_MAC, peer.ip_address))
    for rp in state.remote_ports:
        dev = vxlan_of.get(rp.network_id)
        if dev is None or rp.tunnel_ip == cfg.local_ip:
            continue
        fdb[dev].add((rp.mac_address.lower(), rp.tunnel_ip))
        if cfg.arp_proxy:
            neigh[dev] |= {(ip, rp.mac_address.lower()) for ip in rp.ip_addresses}
    layout.fdb = {k: frozenset(v) for k, v in fdb.items()}
    layout.neighbours = {k: frozenset(v) for k, v in neigh.items()}
    layout.wired = frozenset(wired)
    return layout


# --- what the kernel has, and the plan ----------------------------------------------------------


@dataclass(frozen=True)
class LinkState:
    name: str
    kind: str | None
    master: str | None
    up: bool
    mtu: int
    vni: int | None = None
    local_ip: str | None = None


@dataclass
class KernelView:
    links: dict[str, LinkState]
    fdb: dict[str, frozenset[tuple[str, str]]]
    """vxlan device -> its permanent remote entries (mac, dst)."""
    neighbours: dict[str, frozenset[tuple[str, str]]]
    """vxlan device -> its permanent neighbour entries (ip, mac)."""


@dataclass(frozen=True)
class Action:
    """One idempotent change; ``args`` are the adapter call's arguments."""

    op: str
    args: tuple[str | int | None, ...]

    def __str__(self) -> str:
        return f"{self.op} {' '.join(str(a) for a in self.args if a is not None)}"


def plan(want: Layout, have: KernelView, local_ip: str | None, arp_proxy: bool = True) -> list[Action]:
    """Ordered actions: create bridges and uplinks, enslave, bring up, fix FDB and neighbours,
    then release and delete what is no longer wanted (owned names only)."""
    out: list[Action] = []
    links = have.links
    for name, br in sorted(want.bridges.items()):
        cur = links.get(name)
        if cur is None or cur.kind != "bridge":
            if cur is not None:
                out.append(Action("del_link", (name,)))
            out.append(Action("add_bridge", (name,)))
            cur = None
        up = br.uplink
        if up is not None:
            link = links.get(up.name)
            if up.kind == "vxlan":
                mtu = br.mtu
                if link is not None and (link.kind != "vxlan" or link.vni != up.vni or link.local_ip != local_ip):
                    out.append(Action("del_link", (up.name,)))
                    link = None
                if link is None:
                    out.append(Action("add_vxlan", (up.name, up.vni, local_ip, mtu, int(arp_proxy))))
            elif up.kind == "vlan" and link is None:
                out.append(Action("add_vlan", (up.name, up.parent, up.vid)))
            elif up.kind == "physical" and link is None:
                out.append(Action("missing_interface", (up.name,)))
                up = None
            if up is not None:
                out += _member(up.name, name, link)
        for tap in br.taps:
            out += _member(tap, name, links.get(tap), mtu=br.mtu)
        if cur is None or not cur.up or cur.mtu != br.mtu:
            out.append(Action("set_up", (name, br.mtu)))
    for dev in sorted(want.fdb):  # devices no longer wanted go below, with their entries
        wanted, got = want.fdb[dev], have.fdb.get(dev, frozenset())
        out += [Action("fdb_add", (dev, mac, dst)) for mac, dst in sorted(wanted - got)]
        out += [Action("fdb_del", (dev, mac, dst)) for mac, dst in sorted(got - wanted)]
        nw, ng = want.neighbours.get(dev, frozenset()), have.neighbours.get(dev, frozenset())
        out += [Action("neigh_add", (dev, ip, mac)) for ip, mac in sorted(nw - ng)]
        out += [Action("neigh_del", (dev, ip, mac)) for ip, mac in sorted(ng - nw)]
    wanted_taps = {t for br in want.bridges.values() for t in br.taps}
    wanted_uplinks = {br.uplink.name for br in want.bridges.values() if br.uplink}
    for name, link in sorted(links.items()):
        # a tap left on a bridge that stays (its port went down or away): off the network
        if name.startswith(TAP) and link.master in want.bridges and name not in wanted_taps:
            out.append(Action("release", (name,)))
    for name, link in sorted(links.items()):
        if name.startswith(VXLAN_PREFIX) and link.kind == "vxlan" and name not in wanted_uplinks:
            out.append(Action("del_link", (name,)))
        elif name.startswith(BRIDGE_PREFIX) and link.kind == "bridge" and name not in want.bridges:
            out.append(Action("del_link", (name,)))
    return out


def _member(dev: str, bridge: str, link: LinkState | None, mtu: int | None = None) -> list[Action]:
    out = []
    if link is None or link.master != bridge:
        out.append(Action("set_master", (dev, bridge)))
    if link is None or not link.up or (mtu is not None and link.mtu != mtu):
        out.append(Action("set_up", (dev, mtu)))
    return out
