"""A trace's answer (``GET /v2.0/trace``'s ``trace``, docs/trace.md) -> the nodes of each view
on its path: the endpoints' ports and instances, the networks of its legs, the routers it
crosses with their ports there, the floating IP; and on the hosts, every bridge ``ofproto/trace``
went through, the instances' VIFs, the router namespaces, the wire or tunnel between hosts.
``Graph.highlight`` then draws the edges between two such nodes too."""

from __future__ import annotations

from typing import Any

from neutrino.tools.topology import logical, physical
from neutrino.tools.topology.physical import BR_INT, BR_TUN
from neutrino.tools.topology.state import TopologyState


def _endpoint_ports(doc: dict[str, Any]) -> list[str]:
    return [e["port_id"] for e in (doc.get("from") or {}, doc.get("to") or {}) if e.get("port_id")]


def _networks(doc: dict[str, Any]) -> set[str]:
    return {leg["network_id"] for leg in doc.get("path", []) if leg.get("kind") == "leg" and leg.get("network_id")}


def _routers(doc: dict[str, Any]) -> set[str]:
    return {hop["router_id"] for hop in doc.get("path", []) if hop.get("kind") == "router" and hop.get("router_id")}


def path_ports(state: TopologyState, doc: dict[str, Any]) -> set[str]:
    """The ports the packet goes through: the endpoints' and the routers' on the networks crossed."""
    networks, routers = _networks(doc), _routers(doc)
    if any(e.get("kind") == "outside" for e in (doc.get("from") or {}, doc.get("to") or {})):
        networks |= {n.id for n in state.networks if n.external}
    out = set(_endpoint_ports(doc))
    out |= {p.id for p in state.ports if p.device_id in routers and p.is_router and p.network_id in networks}
    return out


def logical_nodes(state: TopologyState, doc: dict[str, Any]) -> set[str]:
    ports = {p.id: p for p in state.ports}
    out: set[str] = set()
    networks, routers = _networks(doc), _routers(doc)
    for pid in _endpoint_ports(doc):
        out.add(logical.port_node(pid))
        port = ports.get(pid)
        if port is not None:
            owner = logical.owner_node(port)
            if owner:
                out.add(owner)
            out.add(logical.port_attachment(state, port))
    for end in (doc.get("from") or {}, doc.get("to") or {}):
        if end.get("kind") == "outside":
            out.add(logical.OUTSIDE)
            networks |= {n.id for n in state.networks if n.external}
        if end.get("floating_ip"):
            out |= {logical.fip_node(f.id) for f in state.floating_ips if f.address == end["floating_ip"]}
    for rid in routers:
        out.add(logical.router_node(rid))
        for p in ports.values():
            if p.device_id == rid and p.network_id in networks:
                out |= {logical.port_node(p.id), logical.port_attachment(state, p)}
    out |= {logical.net_node(n) for n in networks}
    return out


def physical_nodes(state: TopologyState, doc: dict[str, Any]) -> set[str]:
    out: set[str] = set()
    ports = {p.id: p for p in state.ports}
    for end in (doc.get("from") or {}, doc.get("to") or {}):
        port = ports.get(end.get("port_id") or "")
        if port is not None and port.is_compute and port.host:
            out |= {physical.vif_node(port.host, port.id), physical.bridge_node(port.host, BR_INT)}
        if end.get("kind") == "outside":
            out.add(logical.OUTSIDE)
    for step in doc.get("path", []):
        if step.get("kind") == "router":
            host, rid = step.get("host"), step.get("router_id")
            if host and rid:
                out |= {physical.namespace_node(host, physical.router_namespace(rid)), physical.bridge_node(host, BR_INT)}
            continue
        ends = [h for h in ((step.get("from") or {}).get("host"), (step.get("to") or {}).get("host")) if h]
        out |= {physical.bridge_node(h, BR_INT) for h in ends}
        out |= {physical.bridge_node(hop["host"], hop["bridge"]) for hop in step.get("hops", [])
                if hop.get("host") and hop.get("bridge")}  # fmt: skip
        seg = step.get("segment") or {}
        crosses = len(set(ends)) > 1 or any(e.get("kind") == "outside" for e in (doc.get("from") or {}, doc.get("to") or {}))
        if not crosses:
            continue
        if seg.get("physical_network"):
            physnet = seg["physical_network"]
            out.add(physical.wire_node(physnet))
            out |= {physical.bridge_node(h, state.bridge_mappings(h).get(physnet, f"br-{physnet}")) for h in ends}
        elif seg.get("network_type") in ("vxlan", "gre", "geneve"):
            out |= {physical.bridge_node(h, BR_TUN) for h in ends}
    return out
