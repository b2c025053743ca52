"""Failover: move networks and routers off agents that have been dead too long.

An enabled agent silent for more than twice ``agent_down_time`` (dead, then dead for as long
again: Neutron's agent_dead_limit) loses its work:

* DHCP (``allow_automatic_dhcp_failover``, default on): each of its networks is taken off it
  (its DHCP port reserved for reuse) and scheduled again to live agents. When no live, enabled
  DHCP agent exists at all nothing is touched: that looks like an outage of the reporting
  path, not of the agents, and emptying every agent would make it worse.
* L3 (``allow_automatic_l3agent_failover``, default off): each of its routers moves to the
  least loaded suitable live agent; a router with nowhere to go stays where it is.

Runs in the caller's transaction; the server runs it periodically (see ``periodic``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from neutrino.domain.models import Agent
from neutrino.domain.scheduling import choice, dhcp, l3
from neutrino.domain.scheduling.common import agent_views, now_or_current, take_turns
from neutrino.domain.config import DomainConfig

LOG = logging.getLogger(__name__)

_WARNED_NO_LIVE_DHCP: dict[str, frozenset[str]] = {"dead": frozenset()}
"""The dead agents the last "no live DHCP agent" warning named: it is logged once per change,
not at every periodic run (every agent_down_time / 2) of a server left without agents."""


@dataclass(frozen=True)
class Moved:
    """One resource taken off a dead agent; ``to_agent`` None if no other agent took it."""

    kind: str  # "network" or "router"
    resource_id: str
    from_agent: str
    to_agent: str | None


def _dhcp_failover(session: Session, cfg: DomainConfig, now: datetime) -> list[Moved]:
    take_turns(session, "dhcp")
    agents = agent_views(session, choice.DHCP_AGENT)
    dead = choice.dead_agents(agents, now, cfg.agent_down_time)
    if not dead:
        return []
    if not any(choice.usable(a, now, cfg.agent_down_time) for a in agents):
        dead_ids = frozenset(a.id for a in dead)
        if dead_ids != _WARNED_NO_LIVE_DHCP["dead"]:
            LOG.warning("no live DHCP agent: not moving networks off %d dead agent(s)", len(dead))
            _WARNED_NO_LIVE_DHCP["dead"] = dead_ids
        return []
    _WARNED_NO_LIVE_DHCP["dead"] = frozenset()
    removed: list[tuple[str, str]] = []
    for agent_view in dead:
        agent = session.get(Agent, agent_view.id)
        assert agent is not None
        for network_id in dhcp.hosted_network_ids(session, agent.id):
            LOG.warning(
                "removing network %s from DHCP agent %s (host %s): no report for more than %ss",
                network_id, agent.id, agent.host, 2 * cfg.agent_down_time,
            )  # fmt: skip
            dhcp.remove_network(session, agent=agent, network_id=network_id)
            removed.append((network_id, agent.id))
    networks = sorted({n for n, _ in removed})
    added = dhcp.place_networks(session, cfg, sorted(dhcp.needing_dhcp(session, networks)), now)
    moves = []
    for network_id, old in removed:
        new = added.get(network_id) or []
        moves.append(Moved("network", network_id, old, new.pop(0) if new else None))
    return moves


def _l3_failover(session: Session, cfg: DomainConfig, now: datetime) -> list[Moved]:
    take_turns(session, "l3")
    agents = agent_views(session, choice.L3_AGENT)
    dead = choice.dead_agents(agents, now, cfg.agent_down_time)
    if not dead:
        return []
    loads = l3.loads(session)
    moves = []
    for agent_view in dead:
        # HA routers stay: their other agents take over by VRRP (Neutron's failover skips them)
        hosted = l3.hosted_router_ids(session, agent_view.id)
        ha = l3.ha_router_ids(session, hosted)
        routers = [r for r in hosted if r not in ha]
        gateways = l3.gateway_networks(session, routers)
        hints = l3.zone_hints(session, routers)
        for router_id in routers:
            target = choice.choose_l3_agent(
                agents,
                loads,
                router_id=router_id,
                gateway_network_id=gateways.get(router_id),
                now=now,
                down_time=cfg.agent_down_time,
                exclude=l3.hosting_agent_ids(session, router_id),
                hints=hints.get(router_id, ()),
            )
            if target is None:
                LOG.warning("failed rescheduling router %s: no eligible L3 agent found", router_id)
                continue
            LOG.warning(
                "rescheduling router %s from L3 agent %s (host %s) to %s: no report for more than %ss",
                router_id, agent_view.id, agent_view.host, target, 2 * cfg.agent_down_time,
            )  # fmt: skip
            l3.move_router(session, router_id=router_id, from_agent=agent_view.id, to_agent=target)
            loads[target] = loads.get(target, 0) + 1
            loads[agent_view.id] = loads.get(agent_view.id, 1) - 1
            moves.append(Moved("router", router_id, agent_view.id, target))
    return moves


def reschedule_dead_agents(session: Session, cfg: DomainConfig, now: datetime | None = None) -> list[Moved]:
    """Move work off agents dead too long, per the failover options; returns what moved."""
    now = now_or_current(now)
    moves: list[Moved] = []
    if cfg.allow_automatic_dhcp_failover:
        moves += _dhcp_failover(session, cfg, now)
    if cfg.allow_automatic_l3agent_failover:
        moves += _l3_failover(session, cfg, now)
    session.flush()
    return moves
