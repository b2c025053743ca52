"""The agent registry: agents exist because they report, and are alive while they keep reporting.

``report_state`` is the server side of Neutron's ``q-reports-plugin`` call: the first report
creates the agent (``new``), later ones refresh its heartbeat (``alive``), and a report from an
agent that had been silent longer than ``agent_down_time`` brings it back (``revived``). A report
also records the host's tunnel endpoints and, for DHCP and L3 agents, lets the server place
networks and routers that still lack an agent (Neutron does this when the agent syncs).

The ``/v2.0/agents`` API is admin-only, as in Neutron's default policy: a non-admin's list is
empty and any single agent is "not found" to them, so nothing about the deployment leaks.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from neutrino import errors
from neutrino.domain import scheduling
from neutrino.domain.context import Context
from neutrino.domain.listing import ListQuery, apply_filters, apply_order_and_page
from neutrino.domain.models import Agent
from neutrino.domain.models.base import utcnow
from neutrino.domain.scheduling import choice
from neutrino.domain.services import tunnel_endpoints
from neutrino.domain.config import DomainConfig

NEW, ALIVE, REVIVED = "new", "alive", "revived"

COLUMNS = {
    "id": Agent.id,
    "agent_type": Agent.agent_type,
    "binary": Agent.binary,
    "topic": Agent.topic,
    "host": Agent.host,
    "admin_state_up": Agent.admin_state_up,
    "description": Agent.description,
    "availability_zone": Agent.availability_zone,
    "created_at": Agent.created_at,
    "started_at": Agent.started_at,
    "heartbeat_timestamp": Agent.heartbeat_timestamp,
}

# agent_type is matched case-insensitively by list_agents itself
_FILTER_COLUMNS = {name: column for name, column in COLUMNS.items() if name != "agent_type"}

# the reported configuration key that measures a DHCP agent's load (Neutron's dhcp_load_type)
_LOAD_KEYS = {choice.DHCP_AGENT: "networks"}


def _now(now: datetime | None) -> datetime:
    """Naive UTC at second precision, as stored (and as Neutron prints agent times)."""
    return (now or utcnow()).replace(microsecond=0, tzinfo=None)


def is_alive(agent: Agent, cfg: DomainConfig, now: datetime | None = None) -> bool:
    return choice.is_alive(agent.heartbeat_timestamp, _now(now), cfg.agent_down_time)


def alive_clause(cfg: DomainConfig, now: datetime | None = None) -> ColumnElement[bool]:
    """SQL for "alive": the same rule as ``is_alive``, usable in filters and joins."""
    return Agent.heartbeat_timestamp >= _now(now) - timedelta(seconds=cfg.agent_down_time)


def _load(agent_type: str, configurations: dict[str, Any]) -> int:
    key = _LOAD_KEYS.get(agent_type)
    try:
        return int(configurations.get(key, 0)) if key else 0
    except (TypeError, ValueError):
        return 0


def report_state(
    session: Session,
    cfg: DomainConfig,
    *,
    agent_type: str,
    binary: str,
    topic: str,
    host: str,
    configurations: dict[str, Any],
    start_flag: bool = False,
    resource_versions: dict[str, Any] | None = None,
    availability_zone: str | None = None,
    now: datetime | None = None,
) -> str:
    """Record one heartbeat; returns ``"new"``, ``"alive"`` or ``"revived"`` as Neutron does.

    Two first reports racing both try to insert; the unique (agent_type, host) constraint makes
    one fail and its transaction retry, which then finds the row: no duplicate agent.
    """
    if not agent_type or not host or not binary:
        raise errors.InvalidInput(error_message="an agent report needs agent_type, binary and host")
    if not isinstance(configurations, dict):
        raise errors.InvalidInput(error_message="configurations must be a JSON object")
    now = _now(now)
    agent = session.scalar(select(Agent).where(Agent.agent_type == agent_type, Agent.host == host))
    if agent is None:
        agent = Agent(
            agent_type=agent_type,
            binary=binary,
            topic=topic,
            host=host,
            admin_state_up=cfg.enable_new_agents,
            created_at=now,
            started_at=now,
            heartbeat_timestamp=now,
            configurations=configurations,
            resource_versions=resource_versions or {},
            availability_zone=availability_zone,
            load=_load(agent_type, configurations),
        )
        session.add(agent)
        status = NEW
    else:
        status = ALIVE if is_alive(agent, cfg, now) else REVIVED
        agent.binary = binary
        agent.topic = topic
        agent.configurations = configurations
        if resource_versions:
            agent.resource_versions = resource_versions
        agent.availability_zone = availability_zone
        agent.load = _load(agent_type, configurations)
        agent.heartbeat_timestamp = now
        if start_flag:
            agent.started_at = now
    session.flush()
    if agent_type in choice.L2_AGENT_TYPES:
        tunnel_endpoints.sync(session, host=host, configurations=configurations)
    if agent_type == choice.DHCP_AGENT and cfg.network_auto_schedule:
        scheduling.schedule_unhosted_networks(session, cfg, now=now)
    if agent_type == choice.L3_AGENT and cfg.router_auto_schedule:
        placed = scheduling.schedule_unhosted_routers(session, cfg, now=now)
        if placed:
            # here, not at the top: l3_ha reaches the port service, whose binding asks this module
            from neutrino.domain.services import l3_ha
            from neutrino.domain.wiring import Domain

            l3_ha.sync_ports(session, cast(Domain, cfg), sorted(placed))
    return status


def live_agents(
    session: Session, cfg: DomainConfig, *, host: str, agent_type: str, now: datetime | None = None
) -> list[Agent]:
    """Agents of ``agent_type`` on ``host`` whose heartbeat is recent (port binding asks this).

    Liveness only: an operator disabling an agent stops scheduling to it, not binding on it.
    """
    stmt = (
        select(Agent)
        .where(Agent.host == host, Agent.agent_type == agent_type, alive_clause(cfg, now))
        .order_by(Agent.id)
    )
    return list(session.scalars(stmt))


def _hidden() -> errors.NeutronError:
    # what Neutron answers a non-admin about any agent: existence is not revealed
    return errors.HTTPNotFound(msg="The resource could not be found.")


def find(session: Session, agent_id: str) -> Agent:
    """Any agent by id, no policy (scheduling and the CLI use it)."""
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise errors.AgentNotFound(id=agent_id)
    return agent


def find_by_host(session: Session, *, agent_type: str, host: str) -> Agent:
    agent = session.scalar(select(Agent).where(Agent.agent_type == agent_type, Agent.host == host))
    if agent is None:
        raise errors.AgentNotFound(id=f"{agent_type}@{host}")
    return agent


def get(session: Session, ctx: Context, agent_id: str) -> Agent:
    if not ctx.is_admin:
        raise _hidden()
    return find(session, agent_id)


def list_(
    session: Session, ctx: Context, cfg: DomainConfig, q: ListQuery, now: datetime | None = None
) -> list[Agent]:
    if not ctx.is_admin:
        return []
    stmt = select(Agent)
    if "alive" in q.filters:
        wanted = set(q.filters["alive"])  # True, False, both (no constraint) or none (no match)
        if not wanted:
            return []
        if len(wanted) == 1:
            clause = alive_clause(cfg, now)
            stmt = stmt.where(clause if wanted.pop() else ~clause)
    if "agent_type" in q.filters:
        # case-insensitive, as Neutron's on MySQL (docs/neutron-behaviour.md, "Agents and scheduling")
        wanted = [str(v).lower() for v in q.filters["agent_type"]]
        stmt = stmt.where(func.lower(Agent.agent_type).in_(wanted))
    stmt = apply_filters(stmt, Agent, q, _FILTER_COLUMNS)
    stmt = apply_order_and_page(session, stmt, Agent, q, COLUMNS)
    return list(session.scalars(stmt))


def update(session: Session, ctx: Context, cfg: DomainConfig, agent_id: str, data: dict[str, Any]) -> Agent:
    """Only ``admin_state_up`` and ``description`` change (the parser refuses the rest)."""
    agent = get(session, ctx, agent_id)
    for key in ("admin_state_up", "description"):
        if key in data:
            setattr(agent, key, data[key] if data[key] is not None else "")
    session.flush()
    return agent


def delete(session: Session, ctx: Context, cfg: DomainConfig, agent_id: str) -> None:
    """Forget an agent; its network and router bindings go with it (foreign keys cascade).

    A live agent would simply be re-created by its next report, as in Neutron.
    """
    agent = get(session, ctx, agent_id)
    if agent.agent_type in choice.L2_AGENT_TYPES:
        tunnel_endpoints.forget_host(session, host=agent.host, leaving_agent_id=agent.id)
    session.delete(agent)
    session.flush()


def _time(value: datetime | None) -> str | None:
    """Neutron prints agent times as ``YYYY-MM-DD HH:MM:SS`` (str() of the stored value)."""
    return None if value is None else str(value.replace(microsecond=0))


def render(agents: list[Agent], cfg: DomainConfig, now: datetime | None = None) -> list[dict[str, Any]]:
    now = _now(now)
    return [
        {
            "id": a.id,
            "agent_type": a.agent_type,
            "binary": a.binary,
            "topic": a.topic,
            "host": a.host,
            "admin_state_up": a.admin_state_up,
            "created_at": _time(a.created_at),
            "started_at": _time(a.started_at),
            "heartbeat_timestamp": _time(a.heartbeat_timestamp),
            "alive": choice.is_alive(a.heartbeat_timestamp, now, cfg.agent_down_time),
            "configurations": a.configurations or {},
            "resource_versions": a.resource_versions or {},
            "availability_zone": a.availability_zone,
            "resources_synced": None,
            "description": a.description,
            "ha_chassis_priority": None,
        }
        for a in agents
    ]
