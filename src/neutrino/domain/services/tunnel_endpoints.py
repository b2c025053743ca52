"""Tunnel endpoints: which address each host terminates VXLAN/Geneve/GRE tunnels on.

Fed by L2 agent heartbeats (``tunneling_ip`` + ``tunnel_types`` in their configurations), as
Neutron's ``tunnel_sync`` does: per tunnel type a host has one endpoint and an address belongs
to one host, so a host that changed address, or an address that moved to another host, replaces
the stale row. The projection reads these rows to tell each host its tunnel peers.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.models import Agent, TunnelEndpoint
from neutrino.domain.scheduling.choice import L2_AGENT_TYPES

# tunnel types with an endpoint table in Neutron, and the UDP port each listens on
TUNNEL_UDP_PORTS: dict[str, int | None] = {"vxlan": 4789, "geneve": 6081, "gre": None}


def reported_endpoints(configurations: Mapping[str, Any]) -> tuple[str | None, list[str]]:
    """(tunneling_ip, known tunnel types) from an agent's reported configurations."""
    ip = configurations.get("tunneling_ip")
    types = configurations.get("tunnel_types") or []
    if not ip or not isinstance(types, list):
        return None, []
    try:
        address = str(ipaddress.ip_address(str(ip)))
    except ValueError:
        raise errors.InvalidInput(error_message=f"tunneling_ip '{ip}' is not an IP address") from None
    return address, [t for t in dict.fromkeys(str(t).lower() for t in types) if t in TUNNEL_UDP_PORTS]


def sync(session: Session, *, host: str, configurations: Mapping[str, Any]) -> None:
    """Record the host's endpoint for every tunnel type it reports (no-op without tunnels)."""
    address, types = reported_endpoints(configurations)
    for tunnel_type in types:
        current = session.execute(
            select(TunnelEndpoint.ip_address, TunnelEndpoint.host).where(
                TunnelEndpoint.tunnel_type == tunnel_type,
                or_(TunnelEndpoint.host == host, TunnelEndpoint.ip_address == address),
            )
        ).all()
        if [(r.ip_address, r.host) for r in current] == [(address, host)]:
            continue
        if current:
            session.execute(
                delete(TunnelEndpoint).where(
                    TunnelEndpoint.tunnel_type == tunnel_type,
                    or_(TunnelEndpoint.host == host, TunnelEndpoint.ip_address == address),
                )
            )
        session.add(
            TunnelEndpoint(
                tunnel_type=tunnel_type,
                ip_address=address,
                host=host,
                udp_port=TUNNEL_UDP_PORTS[tunnel_type],
            )
        )
    session.flush()


def forget_host(session: Session, *, host: str, leaving_agent_id: str) -> None:
    """Drop a host's endpoints when its last L2 agent is deleted."""
    others = session.scalar(
        select(Agent.id).where(
            and_(Agent.host == host, Agent.agent_type.in_(L2_AGENT_TYPES), Agent.id != leaving_agent_id)
        ).limit(1)
    )
    if others is None:
        session.execute(delete(TunnelEndpoint).where(TunnelEndpoint.host == host))


def list_all(session: Session) -> list[TunnelEndpoint]:
    return list(
        session.scalars(select(TunnelEndpoint).order_by(TunnelEndpoint.tunnel_type, TunnelEndpoint.host))
    )
