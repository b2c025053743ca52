"""What the DHCP and L3 schedulers share: loading agents as views, and taking turns.

Scheduling reads "who hosts what" and then writes a choice; two schedulers doing that at once
could both see a network unhosted and bind it to two agents. On SQLite every write transaction
is already serial (BEGIN IMMEDIATE); on PostgreSQL a transaction-scoped advisory lock per
scheduler makes them take turns. The lock is held only until the transaction ends.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from neutrino.domain.models import Agent
from neutrino.domain.models.base import utcnow
from neutrino.domain.scheduling.choice import AgentView


def now_or_current(now: datetime | None) -> datetime:
    return (now or utcnow()).replace(microsecond=0, tzinfo=None)


def take_turns(session: Session, name: str) -> None:
    """Serialise one kind of scheduling across concurrent transactions (PostgreSQL only)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.blake2b(f"scheduling/{name}".encode(), digest_size=8).digest()
    session.execute(select(func.pg_advisory_xact_lock(int.from_bytes(digest, "big", signed=True))))


def as_view(agent: Agent) -> AgentView:
    return AgentView(
        id=agent.id,
        host=agent.host,
        agent_type=agent.agent_type,
        admin_state_up=agent.admin_state_up,
        heartbeat=agent.heartbeat_timestamp,
        configurations=agent.configurations or {},
        availability_zone=agent.availability_zone,
    )


def agent_views(session: Session, agent_type: str) -> list[AgentView]:
    rows = session.scalars(select(Agent).where(Agent.agent_type == agent_type).order_by(Agent.host, Agent.id))
    return [as_view(a) for a in rows]
