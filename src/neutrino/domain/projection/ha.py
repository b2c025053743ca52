"""What an HA router adds to a host's desired state: the host's HA port and the router's VRRP
id (``RouterState.ha``), and the router's shared ports, wired on every host hosting it.

An HA router's interface and gateway ports are bound to the host whose keepalived is active,
but the L2 agent of every host hosting the router wires them (into the right local VLAN), as
Neutron does for HA router ports: when keepalived moves the addresses, traffic flows at once,
without waiting for a new binding to be wired. The standby's devices carry no address and stay
silent.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.contract.desired import RouterHa
from neutrino.domain.models import Agent, HaPortBinding, HaRouter, Port, RouterL3AgentBinding
from neutrino.domain.projection.lookups import fixed_ips_of, segments_of

SHARED_OWNERS = ("network:router_interface", "network:ha_router_replicated_interface", "network:router_gateway")


def ha_of(session: Session, host: str, router_ids: list[str]) -> dict[str, RouterHa]:
    """{router id: this host's HA part} for the HA routers among ``router_ids`` that have an
    HA port for this host's L3 agent."""
    if not router_ids:
        return {}
    rows = session.execute(
        select(HaRouter.router_id, HaRouter.vr_id, Port.id, Port.mac_address, Port.network_id)
        .join(HaPortBinding, HaPortBinding.router_id == HaRouter.router_id)
        .join(Agent, Agent.id == HaPortBinding.l3_agent_id)
        .join(Port, Port.id == HaPortBinding.port_id)
        .where(HaRouter.router_id.in_(router_ids), Agent.host == host)
    ).all()
    ips = fixed_ips_of(session, [r.id for r in rows])
    segments = segments_of(session, [r.network_id for r in rows])
    return {
        r.router_id: RouterHa(r.vr_id or 0, r.id, r.mac_address, ips.get(r.id, ()), segments.get(r.network_id))
        for r in rows
    }


def shared_port_ids(session: Session, host: str) -> list[str]:
    """Interface and gateway ports of the HA routers this host's L3 agent hosts."""
    return list(
        session.scalars(
            select(Port.id)
            .join(HaRouter, HaRouter.router_id == Port.device_id)
            .join(RouterL3AgentBinding, RouterL3AgentBinding.router_id == HaRouter.router_id)
            .join(Agent, Agent.id == RouterL3AgentBinding.l3_agent_id)
            .where(Agent.host == host, Port.device_owner.in_(SHARED_OWNERS))
        )
    )
