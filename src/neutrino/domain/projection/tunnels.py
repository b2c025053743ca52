"""The tunnel peers of a host (the l2population view): only the hosts that share a
tunnelled network with it, so broadcasts flood only where they are needed."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.contract.desired import TunnelPeer
from neutrino.domain.models import (
    Agent,
    NetworkDhcpAgentBinding,
    Port,
    PortBinding,
    RouterL3AgentBinding,
    RouterPort,
    TunnelEndpoint,
)
from neutrino.domain.projection.lookups import segments_of, TUNNEL_TYPES, UNBOUND


def tunnel_peers(
    session: Session, host: str, local_networks: set[str]
) -> tuple[tuple[TunnelPeer, ...], str | None]:
    endpoints = session.execute(select(TunnelEndpoint.host, TunnelEndpoint.tunnel_type, TunnelEndpoint.ip_address)).all()
    local_ip = next((e.ip_address for e in endpoints if e.host == host), None)
    if not local_networks:
        return (), local_ip
    segs = segments_of(session, local_networks)
    tunnelled = {n: s for n, s in segs.items() if s.network_type in TUNNEL_TYPES}
    if not tunnelled:
        return (), local_ip
    ids = list(tunnelled)
    hosts_by_net: dict[str, set[str]] = defaultdict(set)
    for net_id, h in session.execute(
        select(Port.network_id, PortBinding.host)
        .join(PortBinding, PortBinding.port_id == Port.id)
        .where(Port.network_id.in_(ids), PortBinding.vif_type.notin_(UNBOUND), PortBinding.host != "")
    ):
        hosts_by_net[net_id].add(h)
    for net_id, h in session.execute(
        select(NetworkDhcpAgentBinding.network_id, Agent.host)
        .join(Agent, Agent.id == NetworkDhcpAgentBinding.dhcp_agent_id)
        .where(NetworkDhcpAgentBinding.network_id.in_(ids))
    ):
        hosts_by_net[net_id].add(h)
    for net_id, h in session.execute(
        select(Port.network_id, Agent.host)
        .join(RouterPort, RouterPort.port_id == Port.id)
        .join(RouterL3AgentBinding, RouterL3AgentBinding.router_id == RouterPort.router_id)
        .join(Agent, Agent.id == RouterL3AgentBinding.l3_agent_id)
        .where(Port.network_id.in_(ids))
    ):
        hosts_by_net[net_id].add(h)
    peers = []
    for e in endpoints:
        if e.host == host:
            continue
        shared = tuple(
            sorted(n for n, s in tunnelled.items() if s.network_type == e.tunnel_type and e.host in hosts_by_net[n])
        )
        if shared:
            peers.append(TunnelPeer(e.host, e.tunnel_type, e.ip_address, shared))
    return tuple(sorted(peers, key=lambda p: (p.tunnel_type, p.ip_address))), local_ip
