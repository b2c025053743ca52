"""L3 scheduling: which L3 agent hosts each router (Neutron's l3_agent_scheduler).

A (legacy, centralised) router lives on one L3 agent: the live, enabled agent hosting the
fewest routers among those whose configuration accepts it (agent_mode, a pinned router_id,
handle_internal_only_routers, gateway_external_network_id). A router already on an agent,
even a disabled or dead one, stays there: moving it is the admins' call (the ``l3-routers``
API) or failover's, never a side effect of an update.

An HA router (``ha_routers`` row) lives on up to ``max_l3_agents_per_router`` agents at once
(0 means every suitable agent), each running keepalived for it; when fewer were usable at
creation, later scheduling passes (an agent's report) add agents up to that number, as
Neutron's HA scheduler does.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.models import Agent, HaRouter, Port, Router, RouterL3AgentBinding
from neutrino.domain.scheduling import choice
from neutrino.domain.scheduling.bindings import AgentBindings
from neutrino.domain.scheduling.choice import AgentView
from neutrino.domain.scheduling.common import as_view, now_or_current, take_turns
from neutrino.domain.config import DomainConfig

BINDINGS = RouterL3AgentBinding.__table__
L3_BINDINGS = AgentBindings(BINDINGS, BINDINGS.c.router_id, BINDINGS.c.l3_agent_id, choice.L3_AGENT)


def hosting_agent_ids(session: Session, router_id: str) -> list[str]:
    return L3_BINDINGS.hosting_agent_ids(session, router_id)


def hosting_agents(session: Session, router_id: str) -> list[Agent]:
    return L3_BINDINGS.hosting_agents(session, router_id)


def hosted_router_ids(session: Session, agent_id: str) -> list[str]:
    return L3_BINDINGS.hosted_ids(session, agent_id)


def loads(session: Session) -> dict[str, int]:
    return L3_BINDINGS.loads(session)


def gateway_networks(session: Session, router_ids: Iterable[str]) -> dict[str, str | None]:
    """The external network of each router's gateway (None without a gateway)."""
    ids = list(router_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Router.id, Port.network_id).outerjoin(Port, Port.id == Router.gw_port_id).where(Router.id.in_(ids))
    )
    return {rid: net for rid, net in rows}


def zone_hints(session: Session, router_ids: list[str]) -> dict[str, tuple[str, ...]]:
    """Each router's availability_zone_hints (router_availability_zone)."""
    rows = session.execute(select(Router.id, Router.az_hints).where(Router.id.in_(router_ids))) if router_ids else []
    return {rid: tuple(z for z in (value or "").split(",") if z) for rid, value in rows}


def ha_router_ids(session: Session, router_ids: Iterable[str]) -> set[str]:
    """Which of these routers are HA."""
    ids = list(router_ids)
    if not ids:
        return set()
    return set(session.scalars(select(HaRouter.router_id).where(HaRouter.router_id.in_(ids))))


def agents_wanted(cfg: DomainConfig, is_ha: bool) -> int:
    """How many L3 agents a router should be on (0: as many as are suitable)."""
    return max(cfg.max_l3_agents_per_router, 0) if is_ha else 1


def _place(session: Session, cfg: DomainConfig, router_ids: list[str], now: datetime) -> dict[str, list[str]]:
    """Put each router on the best agents it still lacks (one for a legacy router, up to
    ``max_l3_agents_per_router`` for an HA one); loads kept current across the batch."""
    gateways = gateway_networks(session, router_ids)
    hints = zone_hints(session, router_ids)
    ha = ha_router_ids(session, router_ids)
    hosting = {rid: set(hosting_agent_ids(session, rid)) for rid in router_ids}

    def choose(agents: list[AgentView], current: dict[str, int], router_id: str) -> list[str]:
        wanted = agents_wanted(cfg, router_id in ha)
        taken = set(hosting[router_id])
        picked: list[str] = []
        while not wanted or len(taken) < wanted:
            agent_id = choice.choose_l3_agent(
                agents,
                {**current, **{a: current.get(a, 0) + 1 for a in picked}},
                router_id=router_id,
                gateway_network_id=gateways.get(router_id),
                now=now,
                down_time=cfg.agent_down_time,
                exclude=taken,
                hints=hints.get(router_id, ()),
            )
            if agent_id is None:
                break
            picked.append(agent_id)
            taken.add(agent_id)
        return picked

    return L3_BINDINGS.place(session, router_ids, now, cfg.agent_down_time, choose)


def schedule_router(session: Session, cfg: DomainConfig, router_id: str, *, now: datetime | None = None) -> str | None:
    """Make sure a router has an L3 agent; returns the id of the agent hosting it afterwards
    (None when no agent can take it, or auto scheduling is off and none hosts it yet).

    Called by the router service after a router is created or its gateway changes.
    """
    take_turns(session, "l3")
    hosting = hosting_agent_ids(session, router_id)
    wanted = agents_wanted(cfg, bool(ha_router_ids(session, [router_id])))
    if hosting and (wanted == 1 or 0 < wanted <= len(hosting)):
        return hosting[0]
    if not cfg.router_auto_schedule or session.get(Router, router_id) is None:
        return hosting[0] if hosting else None
    placed = _place(session, cfg, [router_id], now_or_current(now)).get(router_id, [])
    return (hosting + placed or [None])[0]


def schedule_unhosted_routers(
    session: Session, cfg: DomainConfig, *, now: datetime | None = None
) -> dict[str, list[str]]:
    """Routers that no agent hosts (created while no L3 agent was up) get one, and HA routers
    on fewer agents than wanted get more; an L3 agent's report triggers this when
    ``router_auto_schedule`` is on. Returns {router id: agent ids added}."""
    take_turns(session, "l3")
    unhosted = set(
        session.scalars(select(Router.id).where(~Router.id.in_(select(BINDINGS.c.router_id))))
    )
    counts = dict(
        session.execute(
            select(HaRouter.router_id, func.count(BINDINGS.c.l3_agent_id))
            .outerjoin(BINDINGS, BINDINGS.c.router_id == HaRouter.router_id)
            .group_by(HaRouter.router_id)
        ).all()
    )
    wanted = agents_wanted(cfg, True)
    short = {rid for rid, n in counts.items() if not wanted or n < wanted}
    todo = sorted(unhosted | short)
    if not todo:
        return {}
    return _place(session, cfg, todo, now_or_current(now))


def add_router(session: Session, *, agent: Agent, router_id: str) -> None:
    """An admin puts a router on an L3 agent (enabled, suitable L3 agents only; a router
    already on another agent must be removed from it first)."""
    take_turns(session, "l3")
    gateway = gateway_networks(session, [router_id]).get(router_id)
    if not agent.admin_state_up or not choice.can_host_router(as_view(agent), gateway, router_id):
        raise errors.InvalidL3Agent(id=agent.id)
    hosting = hosting_agent_ids(session, router_id)
    if agent.id in hosting:
        return  # already there: nothing to do, as in Neutron
    if hosting and not ha_router_ids(session, [router_id]):
        raise errors.RouterHostedByL3Agent(router_id=router_id, agent_id=hosting[0])
    L3_BINDINGS.bind(session, [(router_id, agent.id)])


def remove_router(session: Session, *, agent: Agent, router_id: str) -> None:
    if not L3_BINDINGS.unbind(session, router_id, agent.id):
        raise errors.RouterNotHostedByL3Agent(router_id=router_id, agent_id=agent.id)


def move_router(session: Session, *, router_id: str, from_agent: str, to_agent: str) -> None:
    L3_BINDINGS.unbind(session, router_id, from_agent)
    L3_BINDINGS.bind(session, [(router_id, to_agent)])
