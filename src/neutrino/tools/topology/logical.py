"""The logical view: networks and their subnets, routers, ports, instances (the compute ports of
one device_id) and floating IPs, as a user of the API sees them. Ports are coloured by status;
a port that is administratively down is drawn dashed."""

from __future__ import annotations

from neutrino.tools.topology.graph import Graph, short, status_fill
from neutrino.tools.topology.state import DHCP_OWNER, FLOATING_IP_OWNER, Port, TopologyState

OUTSIDE = "outside"


def net_node(network_id: str) -> str:
    return f"net-{network_id}"


def subnet_node(subnet_id: str) -> str:
    return f"subnet-{subnet_id}"


def port_node(port_id: str) -> str:
    return f"port-{port_id}"


def instance_node(device_id: str) -> str:
    return f"vm-{device_id}"


def router_node(router_id: str) -> str:
    return f"router-{router_id}"


def fip_node(fip_id: str) -> str:
    return f"fip-{fip_id}"


def dhcp_node(port_id: str) -> str:
    return f"dhcp-{port_id}"


def owner_node(port: Port) -> str | None:
    """The node a port belongs to: its instance, router or DHCP service (None: none drawn)."""
    if port.is_compute and port.device_id:
        return instance_node(port.device_id)
    if port.is_router and port.device_id:
        return router_node(port.device_id)
    if port.device_owner == DHCP_OWNER:
        return dhcp_node(port.id)
    return None


def port_attachment(state: TopologyState, port: Port) -> str:
    """Where a port's edge ends: its first subnet when it has one drawn, else its network."""
    subnets = {s.id for s in state.subnets}
    for subnet_id, _ in port.fixed_ips:
        if subnet_id in subnets:
            return subnet_node(subnet_id)
    return net_node(port.network_id)


def build(state: TopologyState) -> Graph:
    g = Graph("logical", attrs={"rankdir": "LR", "nodesep": "0.25", "ranksep": "0.6", "fontname": "sans-serif"})
    for n in state.networks:
        segs = "\n".join(s.label() for s in n.segments)
        label = f"{n.name or short(n.id)}" + (" (external)" if n.external else "") + (f"\n{segs}" if segs else "")
        extra = {} if n.status == "ACTIVE" and n.admin_state_up else {"style": "rounded,filled,dashed"}
        g.add(net_node(n.id), label, "external" if n.external else "network", tooltip=f"network {n.id} {n.status}", **extra)
        if n.external:
            g.add(OUTSIDE, "outside", "wire", tooltip="the external network's upstream")
            g.link(OUTSIDE, net_node(n.id))
    for s in state.subnets:
        g.add(subnet_node(s.id), f"{s.name or short(s.id)}\n{s.cidr}", "subnet", tooltip=f"subnet {s.id} gateway {s.gateway_ip}")
        g.link(subnet_node(s.id), net_node(s.network_id), style="dotted")
    for r in state.routers:
        where = ", ".join(r.hosts) or "not scheduled"
        extra = {} if r.admin_state_up else {"style": "filled,dashed"}
        g.add(router_node(r.id), f"{r.name or short(r.id)}\n{where}", "router", tooltip=f"router {r.id} {r.status}", **extra)
    for device_id, ports in state.instances().items():
        name = next((p.name for p in ports if p.name), short(device_id))
        host = next((p.host for p in ports if p.host), "unbound")
        g.add(instance_node(device_id), f"{name}\n{host}", "instance", tooltip=f"instance {device_id}")
    drawn_ports = {}
    for p in sorted(state.ports, key=lambda p: (p.network_id, p.device_owner, p.name, p.id)):
        if p.device_owner == FLOATING_IP_OWNER:
            continue  # drawn as its floating IP
        owner = owner_node(p)
        if p.device_owner == DHCP_OWNER:
            g.add(dhcp_node(p.id), f"DHCP\n{p.host or 'unbound'}", "dhcp", tooltip=f"DHCP port {p.id}")
        extra = {"style": "filled,dashed"} if not p.admin_state_up else {}
        label = f"{p.name or short(p.id)}\n{p.addresses()}" if p.fixed_ips else (p.name or short(p.id))
        g.add(port_node(p.id), label, "port", tooltip=f"port {p.id} {p.status} {p.device_owner}",
              fillcolor=status_fill(p.status), **extra)  # fmt: skip
        drawn_ports[p.id] = p
        if owner is not None:
            g.link(owner, port_node(p.id))
        g.link(port_node(p.id), port_attachment(state, p))
    for f in state.floating_ips:
        g.add(fip_node(f.id), f"{f.address}", "floatingip", tooltip=f"floating IP {f.id} {f.status}",
              color=status_fill(f.status))  # fmt: skip
        g.link(net_node(f.network_id), fip_node(f.id), style="dashed")
        if f.port_id in drawn_ports:
            g.link(fip_node(f.id), port_node(f.port_id), f"DNAT {f.fixed_ip or ''}".strip(), style="dashed")
    return g
