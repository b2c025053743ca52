"""The dhcp_agent_scheduler and l3_agent_scheduler API extensions: who hosts what, by hand.

Admins list the networks a DHCP agent serves and the DHCP agents of a network, and add or
remove networks (likewise routers and L3 agents). Everything here is admin-only, as in
Neutron's policy: a member gets 403, not an empty answer. The placement rules themselves
live in ``domain.scheduling``.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.context import Context
from neutrino.domain.models import Agent, Router
from neutrino.domain.scheduling import dhcp, l3
from neutrino.domain.services import agents, l3_ha, networks
from neutrino.domain.config import DomainConfig
from neutrino.domain.wiring import Domain


def _admin(ctx: Context, action: str) -> None:
    if not ctx.is_admin:
        raise errors.PolicyNotAuthorized(action=f"rule:{action}")


def _router(session: Session, router_id: str) -> Router:
    router = session.get(Router, router_id)
    if router is None:
        raise errors.RouterNotFound(router_id=router_id)
    return router


# --- DHCP -------------------------------------------------------------------------------------


def networks_of_agent(session: Session, ctx: Context, agent_id: str) -> list[Any]:
    """Rows of the networks a DHCP agent hosts (the networks service renders them)."""
    _admin(ctx, "get_dhcp-networks")
    agent = agents.find(session, agent_id)
    return dhcp.networks_rows(session, dhcp.hosted_network_ids(session, agent.id))


def dhcp_agents_of_network(session: Session, ctx: Context, network_id: str) -> list[Agent]:
    _admin(ctx, "get_dhcp-agents")
    networks.get(session, ctx, network_id)
    return dhcp.hosting_agents(session, network_id)


def add_network(session: Session, ctx: Context, cfg: DomainConfig, agent_id: str, network_id: Any) -> None:
    _admin(ctx, "create_dhcp-network")
    if not isinstance(network_id, str) or not network_id:
        raise errors.HTTPBadRequest(msg="Failed to parse request. Required attribute 'network_id' not specified")
    networks.get(session, ctx, network_id)
    dhcp.add_network(session, agent=agents.find(session, agent_id), network_id=network_id)


def remove_network(session: Session, ctx: Context, cfg: DomainConfig, agent_id: str, network_id: str) -> None:
    _admin(ctx, "delete_dhcp-network")
    agent = agents.find(session, agent_id)
    dhcp.remove_network(session, agent=agent, network_id=network_id)


# --- L3 ---------------------------------------------------------------------------------------


def routers_of_agent(session: Session, ctx: Context, agent_id: str) -> list[Router]:
    _admin(ctx, "get_l3-routers")
    agent = agents.find(session, agent_id)
    ids = l3.hosted_router_ids(session, agent.id)
    if not ids:
        return []
    return list(session.scalars(select(Router).where(Router.id.in_(ids)).order_by(Router.id)))


def l3_agents_of_router(session: Session, ctx: Context, router_id: str) -> list[Agent]:
    _admin(ctx, "get_l3-agents")
    _router(session, router_id)
    return l3.hosting_agents(session, router_id)


def add_router(session: Session, ctx: Context, cfg: DomainConfig, agent_id: str, router_id: Any) -> None:
    _admin(ctx, "create_l3-router")
    if not isinstance(router_id, str) or not router_id:
        raise errors.HTTPBadRequest(msg="Failed to parse request. Required attribute 'router_id' not specified")
    _router(session, router_id)
    l3.add_router(session, agent=agents.find(session, agent_id), router_id=router_id)
    l3_ha.sync_ports(session, cast(Domain, cfg), [router_id])


def remove_router(session: Session, ctx: Context, cfg: DomainConfig, agent_id: str, router_id: str) -> None:
    _admin(ctx, "delete_l3-router")
    agent = agents.find(session, agent_id)
    _router(session, router_id)
    l3.remove_router(session, agent=agent, router_id=router_id)
    l3_ha.sync_ports(session, cast(Domain, cfg), [router_id])


def l3_agent_states(session: Session, cfg: DomainConfig, router_id: str) -> dict[str, str]:
    """{agent id: ha_state} shown by ``GET /routers/{id}/l3-agents`` for an HA router."""
    return l3_ha.states(session, cfg, router_id)
