"""The one shape of DHCP and L3 placement: a table binding resources to the agents that host
them, and the placement loop both schedulers run over it.

``AgentBindings`` names the table and its two columns (networks on DHCP agents, routers on L3
agents); ``place`` reads the agents and their loads once for a whole batch, asks a chooser
(``choice.choose_dhcp_agents`` or ``choice.choose_l3_agent``) for each resource, keeps the
loads current as it goes and writes every new binding in one statement. What differs between
the schedulers is only the chooser.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from neutrino.domain.models import Agent
from neutrino.domain.scheduling import choice
from neutrino.domain.scheduling.choice import AgentView
from neutrino.domain.scheduling.common import agent_views

Chooser = Callable[[list[AgentView], dict[str, int], str], list[str]]
"""(agents, current loads, resource id) -> ids of the agents to add for that resource."""


@dataclass(frozen=True)
class AgentBindings:
    table: Any
    resource: Any
    """The column holding the resource id (network_id, router_id)."""
    agent: Any
    """The column holding the agent id (dhcp_agent_id, l3_agent_id)."""
    agent_type: str

    def hosting_agent_ids(self, session: Session, resource_id: str) -> list[str]:
        stmt = select(self.agent).where(self.resource == resource_id).order_by(self.agent)
        return list(session.scalars(stmt))

    def hosting_agents(self, session: Session, resource_id: str) -> list[Agent]:
        stmt = (
            select(Agent)
            .join(self.table, self.agent == Agent.id)
            .where(self.resource == resource_id)
            .order_by(Agent.host, Agent.id)
        )
        return list(session.scalars(stmt))

    def hosted_ids(self, session: Session, agent_id: str) -> list[str]:
        stmt = select(self.resource).where(self.agent == agent_id).order_by(self.resource)
        return list(session.scalars(stmt))

    def loads(self, session: Session) -> dict[str, int]:
        """How many resources each agent hosts (agents hosting none are absent)."""
        rows = session.execute(select(self.agent, func.count()).group_by(self.agent))
        return {agent_id: int(count) for agent_id, count in rows}

    def bind(self, session: Session, pairs: Iterable[tuple[str, str]]) -> None:
        """Write (resource id, agent id) bindings in one statement."""
        rows = [{self.resource.name: resource_id, self.agent.name: agent_id} for resource_id, agent_id in pairs]
        if rows:
            session.execute(insert(self.table), rows)

    def unbind(self, session: Session, resource_id: str, agent_id: str) -> bool:
        """Remove one binding; False if there was none."""
        found = session.execute(delete(self.table).where(self.resource == resource_id, self.agent == agent_id))
        return bool(found.rowcount)

    def place(
        self, session: Session, resource_ids: list[str], now: datetime, down_time: int, choose: Chooser
    ) -> dict[str, list[str]]:
        """Bind each resource to the agents ``choose`` picks; {resource id: agents added}.
        Nothing happens when no agent of this type is usable now."""
        agents = agent_views(session, self.agent_type)
        if not any(choice.usable(agent, now, down_time) for agent in agents):
            return {}
        loads = self.loads(session)
        chosen: dict[str, list[str]] = {}
        for resource_id in resource_ids:
            picked = choose(agents, loads, resource_id)
            for agent_id in picked:
                loads[agent_id] = loads.get(agent_id, 0) + 1
            if picked:
                chosen[resource_id] = picked
        self.bind(session, ((resource_id, agent_id) for resource_id, ids in chosen.items() for agent_id in ids))
        return chosen
