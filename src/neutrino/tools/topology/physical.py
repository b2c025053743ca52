"""The physical view: one box per host (its agents and how long since each last reported), the
Open vSwitch bridges the L2 agent runs (br-int, br-tun when it tunnels, the bridge of each
physical network it maps), the patch ports between them, the tunnels between hosts, the router
and DHCP namespaces, each instance's VIF, and the wires: one per physical network, joining the
hosts that map it (and the outside, for an external network's). Host borders say agent
liveness; an audit's drift is listed in the host's box.

The names are the dataplane's (``dataplane/naming.py``): what an operator finds with
``ovs-vsctl show`` and ``ip netns``. A host whose L2 agent is the Linux bridge agent has no
Open vSwitch: each network present there is its ``brq`` bridge instead, its uplink the mapped
interface (``<if>.<vid>`` for VLAN) or the kernel's ``vxlan-<vni>`` device.
"""

from __future__ import annotations

from itertools import combinations

from neutrino.dataplane import naming
from neutrino.tools.topology.graph import ALIVE, DEAD, Cluster, Graph, short, status_fill
from neutrino.tools.topology.logical import OUTSIDE
from neutrino.tools.topology.state import DHCP_OWNER, ROUTER_GATEWAY, LivePort, TopologyState

BR_INT, BR_TUN = "br-int", "br-tun"
MAX_DRIFT_LINES = 8
TUNNEL_COLOUR = "#1565c0"
LINUX_BRIDGE = "Linux bridge agent"
TUNNELS = "wire/tunnels"


def bridge_node(host: str, bridge: str) -> str:
    return f"{host}/{bridge}"


def namespace_node(host: str, namespace: str) -> str:
    return f"{host}/{namespace}"


def vif_node(host: str, port_id: str) -> str:
    return f"{host}/vif-{port_id}"


def wire_node(physnet: str) -> str:
    return f"wire/{physnet}"


def router_namespace(router_id: str) -> str:
    return naming.router_namespace(router_id)


def dhcp_namespace(network_id: str) -> str:
    return naming.dhcp_namespace(network_id)


class _Live:
    """One host's live Open vSwitch ports (``dpif/show``), or None when it is not known: then
    nothing is checked and the intent is drawn as it is."""

    def __init__(self, ports: tuple[LivePort, ...] | None) -> None:
        self.ports = ports

    def has(self, bridge: str, name: str = "", suffix: str = "") -> bool | None:
        if self.ports is None:
            return None
        return any(p.bridge == bridge and (p.name == name if name else p.name.endswith(suffix)) for p in self.ports)

    def nic(self, bridge: str) -> str | None:
        """The bridge's NIC: its one port that is neither its own internal port nor a patch or tunnel."""
        found = [p.name for p in self.ports or () if p.bridge == bridge and p.name != bridge
                 and not p.type.startswith(("patch", "vxlan", "gre", "geneve"))]  # fmt: skip
        return found[0] if len(found) == 1 else None

    def bridges(self) -> list[str]:
        return sorted({p.bridge for p in self.ports or ()})


def _checked(label: str, *found: bool | None) -> dict[str, str]:
    """An edge's label and colours: red and dashed when the live state lacks one of its ports."""
    if any(f is False for f in found):
        return {"label": f"{label} (missing)", "color": DEAD, "fontcolor": DEAD, "style": "dashed"}
    return {"label": label}


def _host_label(state: TopologyState, host: str) -> str:
    lines = [host]
    for a in sorted((a for a in state.agents if a.host == host), key=lambda a: a.agent_type):
        health = "alive" if a.alive else "DOWN"
        lines.append(f"{a.agent_type}: {health}, heartbeat {a.heartbeat_age:.0f} s ago")
    if not any(a.host == host for a in state.agents):
        lines.append("no agent")
    if host in state.live:
        lines.append(f"live (dpif/show): {len({p.bridge for p in state.live[host]})} bridges, {len(state.live[host])} ports")
    elif host in state.live_errors:
        lines.append(f"live state unknown: {state.live_errors[host]}")
    return "\n".join(lines)


def _host_alive(state: TopologyState, host: str) -> bool:
    agents = [a for a in state.agents if a.host == host]
    return bool(agents) and all(a.alive for a in agents)


def _linuxbridge(g: Graph, box: Cluster, state: TopologyState, host: str, network_id: str) -> str:
    """The ``brq`` bridge of ``network_id`` on a Linux bridge host, drawn with its uplink once."""
    node = bridge_node(host, naming.device("brq", network_id))
    if node in g.nodes:
        return node
    net = state.network(network_id)
    g.add(node, f"{naming.device('brq', network_id)}\n{net.name if net else ''}", "bridge", tooltip=f"{host}: Linux bridge")
    box.members.append(node)
    agent = state.l2_agent(host)
    mappings = (agent.configurations if agent else {}).get("interface_mappings") or {}
    for seg in net.segments if net else ():
        if seg.network_type in ("flat", "vlan") and seg.physical_network in mappings:
            nic = str(mappings[seg.physical_network])
            label = f"{nic}.{seg.segmentation_id}" if seg.network_type == "vlan" else nic
            g.add(wire_node(seg.physical_network), f"{seg.physical_network}\nwire", "wire")
            g.link(node, wire_node(seg.physical_network), label)
        elif seg.network_type == "vxlan" and seg.segmentation_id is not None:
            g.add(TUNNELS, "tunnel network", "wire", tooltip="the hosts' tunnel addresses")
            g.link(node, TUNNELS, f"vxlan-{seg.segmentation_id}", style="dashed", color=TUNNEL_COLOUR)
    return node


def build(state: TopologyState) -> Graph:
    g = Graph("physical", attrs={"rankdir": "TB", "nodesep": "0.3", "ranksep": "0.7", "fontname": "sans-serif",
                                 "compound": "true"})  # fmt: skip
    external_physnets = {s.physical_network for n in state.networks if n.external for s in n.segments
                         if s.physical_network}  # fmt: skip
    tunnel_hosts: list[str] = []
    for host in state.hosts():
        alive = _host_alive(state, host)
        box = g.cluster(f"cluster_host_{host}", _host_label(state, host), color=ALIVE if alive else DEAD, penwidth="2",
                        style="rounded", labeljust="l", fontname="sans-serif")  # fmt: skip
        l2 = state.l2_agent(host)
        linuxbridge = l2 is not None and l2.agent_type == LINUX_BRIDGE

        def plug(network_id: str, box: Cluster = box, host: str = host, lb: bool = linuxbridge) -> str:
            """The bridge a port of ``network_id`` is plugged into on this host."""
            return _linuxbridge(g, box, state, host, network_id) if lb else bridge_node(host, BR_INT)

        live = _Live(state.live.get(host))
        if l2 is not None and not linuxbridge:
            br_int = bridge_node(host, BR_INT)
            g.add(br_int, BR_INT, "bridge", tooltip=f"{host}: the integration bridge")
            box.members.append(br_int)
            if state.tunnel_types(host) and state.tunnel_ip(host):
                br_tun = bridge_node(host, BR_TUN)
                g.add(br_tun, f"{BR_TUN}\n{state.tunnel_ip(host)}", "bridge", tooltip=f"{host}: the tunnel bridge")
                box.members.append(br_tun)
                g.link(br_int, br_tun, **_checked("patch-tun / patch-int", live.has(BR_INT, "patch-tun"),
                                                  live.has(BR_TUN, "patch-int")))  # fmt: skip
                tunnel_hosts.append(host)
            for physnet, bridge in state.bridge_mappings(host).items():
                node = bridge_node(host, bridge)
                g.add(node, bridge, "bridge", tooltip=f"{host}: the bridge of {physnet}")
                box.members.append(node)
                int_side, phy_side = naming.patch_ports(bridge)
                g.link(br_int, node, **_checked(f"{int_side} / {phy_side}", live.has(BR_INT, int_side),
                                                live.has(bridge, phy_side)))  # fmt: skip
                g.add(wire_node(physnet), f"{physnet}\nwire", "wire", tooltip=f"the physical network {physnet}")
                g.link(node, wire_node(physnet), live.nic(bridge) or "NIC")
            for bridge in live.bridges():
                node = bridge_node(host, bridge)
                if node not in g.nodes:  # on the host, not in neutrino's intent (the lab's underlay, a trunk's, another's)
                    g.add(node, f"{bridge}\n(live only)", "bridge", tooltip=f"{host}: a bridge dpif/show lists",
                          style="filled,dashed", fillcolor="#f4f4f4")  # fmt: skip
                    box.members.append(node)
        for r in state.routers:
            if host in r.hosts:
                ns = namespace_node(host, router_namespace(r.id))
                g.add(ns, f"qrouter-{short(r.id)}\n{r.name}", "namespace", tooltip=router_namespace(r.id))
                box.members.append(ns)
                for p in state.ports:
                    if p.device_id == r.id and p.is_router and l2 is not None:
                        prefix = naming.QG if p.device_owner == ROUTER_GATEWAY else naming.QR
                        where = live.has(BR_INT, suffix=p.id[: naming.ID_CHARS]) if not linuxbridge else None
                        g.link(ns, plug(p.network_id), key=p.id,
                               **{"color": status_fill(p.status), **_checked(prefix + p.id[: naming.ID_CHARS], where)})
        for network_id, hosts in sorted(state.dhcp_hosts.items()):
            if host in hosts:
                ns = namespace_node(host, dhcp_namespace(network_id))
                net = state.network(network_id)
                g.add(ns, f"qdhcp-{short(network_id)}\n{net.name if net else ''}", "namespace",
                      tooltip=dhcp_namespace(network_id))  # fmt: skip
                box.members.append(ns)
                port = next((p for p in state.ports if p.device_owner == DHCP_OWNER and p.network_id == network_id
                             and p.host == host), None)  # fmt: skip
                if l2 is not None:
                    label = naming.device("tap", port.id) if port else ""
                    where = live.has(BR_INT, suffix=port.id[: naming.ID_CHARS]) if port and not linuxbridge else None
                    g.link(ns, plug(network_id), key=port.id if port else "",
                           **{"color": status_fill(port.status) if port else "black", **_checked(label, where)})
        for device_id, ports in state.instances().items():
            for p in ports:
                if p.host != host:
                    continue
                node = vif_node(host, p.id)
                g.add(node, f"{p.name or short(device_id)}\n{p.addresses()}", "vif", tooltip=f"port {p.id} {p.status}",
                      fillcolor=status_fill(p.status))  # fmt: skip
                box.members.append(node)
                if l2 is not None:
                    vif = naming.device(naming.TAP if linuxbridge else naming.QVO, p.id)
                    if not linuxbridge and live.has(BR_INT, vif) is False and live.has(BR_INT, naming.device(naming.TAP, p.id)):
                        vif = naming.device(naming.TAP, p.id)  # plugged straight on br-int (no hybrid plug)
                    where = live.has(BR_INT, vif) if not linuxbridge else None
                    g.link(node, plug(p.network_id), key=p.id, **{"color": status_fill(p.status), **_checked(vif, where)})
        if state.drift is not None:
            found = [d for d in state.drift if d.host == host]
            if found:
                lines = [f"drift: {len(found)}"] + [f"{d.what} {d.detail}".strip() for d in found[:MAX_DRIFT_LINES]]
                node = f"{host}/drift"
                g.add(node, "\n".join(lines), "drift", tooltip=f"{host}: what the audit found")
                box.members.append(node)
    for a, b in combinations(tunnel_hosts, 2):
        types = sorted(set(state.tunnel_types(a)) & set(state.tunnel_types(b)))
        if not types:
            continue
        to_b = naming.tunnel_port(types[0], state.tunnel_ip(b) or "0.0.0.0")
        to_a = naming.tunnel_port(types[0], state.tunnel_ip(a) or "0.0.0.0")
        found = _Live(state.live.get(a)).has(BR_TUN, to_b), _Live(state.live.get(b)).has(BR_TUN, to_a)
        g.link(bridge_node(a, BR_TUN), bridge_node(b, BR_TUN),
               **{"style": "dashed", "color": TUNNEL_COLOUR, "fontcolor": TUNNEL_COLOUR, **_checked(f"{to_b} / {to_a}", *found)})
    for physnet in sorted(external_physnets):
        if wire_node(physnet) in g.nodes:
            g.add(OUTSIDE, "outside", "wire", tooltip="the external network's upstream")
            g.link(wire_node(physnet), OUTSIDE)
    return g
