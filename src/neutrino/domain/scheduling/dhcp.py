"""DHCP scheduling: which DHCP agents serve which networks (Neutron's dhcp_agent_scheduler).

A network needs DHCP agents once it has a DHCP-enabled subnet; it gets up to
``dhcp_agents_per_network`` of them, each time the live, enabled DHCP agent hosting the fewest
networks. Admins can also add and remove networks by hand (the ``dhcp-networks`` API).
Removing a network from an agent keeps that agent's DHCP port but marks its device id
``reserved_dhcp_port``, so the next agent reuses the address instead of taking a new one.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.models import Agent, Network, NetworkDhcpAgentBinding, Port, Subnet
from neutrino.domain.scheduling import choice
from neutrino.domain.scheduling.bindings import AgentBindings
from neutrino.domain.scheduling.choice import AgentView
from neutrino.domain.scheduling.common import now_or_current, take_turns
from neutrino.domain.config import DomainConfig

BINDINGS = NetworkDhcpAgentBinding.__table__
DHCP_BINDINGS = AgentBindings(BINDINGS, BINDINGS.c.network_id, BINDINGS.c.dhcp_agent_id, choice.DHCP_AGENT)
DHCP_OWNER = "network:dhcp"
RESERVED_DHCP_PORT = "reserved_dhcp_port"


def dhcp_device_id(network_id: str, host: str) -> str:
    """The device_id a DHCP agent gives its port (Neutron's get_dhcp_agent_device_id)."""
    host_uuid = uuid.uuid5(uuid.NAMESPACE_DNS, host.split(".")[0])
    return f"dhcp{host_uuid}-{network_id}"


def hosting_agent_ids(session: Session, network_id: str) -> list[str]:
    return DHCP_BINDINGS.hosting_agent_ids(session, network_id)


def hosting_agents(session: Session, network_id: str) -> list[Agent]:
    return DHCP_BINDINGS.hosting_agents(session, network_id)


def hosted_network_ids(session: Session, agent_id: str) -> list[str]:
    return DHCP_BINDINGS.hosted_ids(session, agent_id)


def needing_dhcp(session: Session, network_ids: Iterable[str]) -> set[str]:
    ids = list(network_ids)
    if not ids:
        return set()
    rows = session.scalars(
        select(Subnet.network_id).where(Subnet.network_id.in_(ids), Subnet.enable_dhcp.is_(True)).distinct()
    )
    return set(rows)


def _hosting_map(session: Session, network_ids: Iterable[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    ids = list(network_ids)
    if ids:
        for net, agent in session.execute(
            select(BINDINGS.c.network_id, BINDINGS.c.dhcp_agent_id).where(BINDINGS.c.network_id.in_(ids))
        ):
            out[net].append(agent)
    return out


def _zone_hints(session: Session, network_ids: list[str]) -> dict[str, tuple[str, ...]]:
    rows = session.execute(select(Network.id, Network.az_hints).where(Network.id.in_(network_ids))) if network_ids else []
    return {nid: tuple(z for z in (hints or "").split(",") if z) for nid, hints in rows}


def place_networks(session: Session, cfg: DomainConfig, network_ids: list[str], now: datetime) -> dict[str, list[str]]:
    """Bind each network (which must need DHCP) to agents until it has enough; one read of the
    agents and their loads for the whole batch, loads kept current as choices are made."""
    hosting = _hosting_map(session, network_ids)
    hints = _zone_hints(session, network_ids)

    def choose(agents: list[AgentView], loads: dict[str, int], network_id: str) -> list[str]:
        return choice.choose_dhcp_agents(
            agents,
            hosting.get(network_id, []),
            loads,
            per_network=cfg.dhcp_agents_per_network,
            now=now,
            down_time=cfg.agent_down_time,
            hints=hints.get(network_id, ()),
        )

    return DHCP_BINDINGS.place(session, network_ids, now, cfg.agent_down_time, choose)


def schedule_network(session: Session, cfg: DomainConfig, network_id: str, *, now: datetime | None = None) -> list[str]:
    """Give a network with a DHCP-enabled subnet its DHCP agents; returns the agents added.

    Call it when a network gets a DHCP-enabled subnet (or DHCP is enabled on one). A network
    without DHCP, or already hosted by enough agents, or with no live agent to take it, is
    left as it is.
    """
    take_turns(session, "dhcp")
    if not needing_dhcp(session, [network_id]):
        return []
    return place_networks(session, cfg, [network_id], now_or_current(now)).get(network_id, [])


def schedule_unhosted_networks(
    session: Session, cfg: DomainConfig, *, now: datetime | None = None
) -> dict[str, list[str]]:
    """Every network that needs DHCP and has fewer agents than wanted gets them (a DHCP
    agent's report triggers this when ``network_auto_schedule`` is on, as Neutron's agent sync
    does); returns {network id: agents added}."""
    take_turns(session, "dhcp")
    hosted = (
        select(BINDINGS.c.network_id, func.count().label("n")).group_by(BINDINGS.c.network_id).subquery()
    )
    stmt = (
        select(Subnet.network_id)
        .outerjoin(hosted, hosted.c.network_id == Subnet.network_id)
        .where(Subnet.enable_dhcp.is_(True), func.coalesce(hosted.c.n, 0) < cfg.dhcp_agents_per_network)
        .distinct()
        .order_by(Subnet.network_id)
    )
    wanting = list(session.scalars(stmt))
    if not wanting:
        return {}
    return place_networks(session, cfg, wanting, now_or_current(now))


def add_network(session: Session, *, agent: Agent, network_id: str) -> None:
    """An admin puts a network on a DHCP agent (enabled DHCP agents only, once each)."""
    take_turns(session, "dhcp")
    if agent.agent_type != choice.DHCP_AGENT or not agent.admin_state_up:
        raise errors.InvalidDHCPAgent(id=agent.id)
    if agent.id in hosting_agent_ids(session, network_id):
        raise errors.NetworkHostedByDHCPAgent(network_id=network_id, agent_id=agent.id)
    DHCP_BINDINGS.bind(session, [(network_id, agent.id)])


def remove_network(session: Session, *, agent: Agent, network_id: str) -> None:
    """Take a network off a DHCP agent, keeping its DHCP port (and address) for the next one."""
    take_turns(session, "dhcp")
    if not DHCP_BINDINGS.unbind(session, network_id, agent.id):
        raise errors.NetworkNotHostedByDhcpAgent(network_id=network_id, agent_id=agent.id)
    device_id = dhcp_device_id(network_id, agent.host)
    for port in session.scalars(
        select(Port).where(Port.network_id == network_id, Port.device_id == device_id, Port.device_owner == DHCP_OWNER)
    ):
        port.device_id = RESERVED_DHCP_PORT
        port.bump_revision()
    session.flush()


def networks_rows(session: Session, network_ids: list[str]) -> list[object]:
    """Plain network rows (what the networks service renders), in id order."""
    if not network_ids:
        return []
    table = Network.__table__
    return list(session.connection().execute(select(table).where(table.c.id.in_(network_ids)).order_by(table.c.id)))
