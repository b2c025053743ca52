"""The intent a trace works from (``tools/trace/world.World``), read from the database in one
transaction: the desired state projected for every host with an agent (what the agents
converge to), the names users type, and each L2 agent's bridge mappings."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.domain.models import Agent
from neutrino.domain.models.network import Network
from neutrino.domain.models.port import Port
from neutrino.domain.models.router import Router
from neutrino.domain.models.secgroup import SecurityGroup
from neutrino.domain.projection.build import project_host
from neutrino.tools.trace.world import World

L2_AGENT = "Open vSwitch agent"


def build(session: Session) -> World:
    agents = session.scalars(select(Agent)).all()
    hosts = sorted({a.host for a in agents})
    states = {h: project_host(session, h) for h in hosts}
    mappings: dict[str, dict[str, str]] = {}
    direct = set()
    for a in agents:
        if a.agent_type == L2_AGENT:
            if (a.configurations or {}).get("ovs_hybrid_plug") is False:
                direct.add(a.host)
            mappings[a.host] = {str(k): str(v) for k, v in (a.configurations or {}).get("bridge_mappings", {}).items()}
    port_ids = {p.port_id for s in states.values() for p in s.ports}
    names = {pid: name for pid, name in session.execute(select(Port.id, Port.name).where(Port.id.in_(port_ids))) if name}
    return World(
        states=states,
        port_names=names,
        network_names={i: n for i, n in session.execute(select(Network.id, Network.name)) if n},
        group_names={i: n for i, n in session.execute(select(SecurityGroup.id, SecurityGroup.name)) if n},
        router_names={i: n for i, n in session.execute(select(Router.id, Router.name)) if n},
        bridge_mappings=mappings,
        direct_plug=frozenset(direct),
    )
