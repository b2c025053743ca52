"""Availability zones (availability_zone, network_availability_zone, router_availability_zone).

A zone exists because agents report it: a DHCP agent's zone is a zone for networks, an L3
agent's for routers (Neutron's AgentAvailabilityZoneMixin). It is ``available`` when at least
one of its agents of that kind is enabled (admin_state_up), as Neutron reports it.
Networks and routers take ``availability_zone_hints`` on create (only zones that exist for
their kind); the schedulers place them on agents in those zones; ``availability_zones`` shows
the zones of the agents that host them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.by_ids import ByIds
from neutrino.db.engine import connection_of
from neutrino.domain.context import Context
from neutrino.domain.models import Agent, Network, NetworkDhcpAgentBinding, RouterL3AgentBinding
from neutrino.domain.scheduling.choice import DHCP_AGENT, L3_AGENT
from neutrino.domain.services.extensions import Extension

HINTS = "availability_zone_hints"
ZONES = "availability_zones"
RESOURCE_OF_AGENT = {DHCP_AGENT: "network", L3_AGENT: "router"}
AGENT_OF_RESOURCE = {v: k for k, v in RESOURCE_OF_AGENT.items()}


def zone_states(agents: Iterable[tuple[str | None, str, bool]]) -> dict[tuple[str, str], str]:
    """{(zone, resource): state} from (zone, agent_type, admin_state_up) of every agent (pure)."""
    up: dict[tuple[str, str], bool] = {}
    for zone, agent_type, admin_up in agents:
        resource = RESOURCE_OF_AGENT.get(agent_type)
        if not zone or resource is None:
            continue
        up[(zone, resource)] = up.get((zone, resource), False) or bool(admin_up)
    return {key: "available" if value else "unavailable" for key, value in up.items()}


def list_zones(session: Session, filters: dict[str, list[str]]) -> list[dict[str, str]]:
    rows = session.execute(select(Agent.availability_zone, Agent.agent_type, Agent.admin_state_up))
    out = []
    for (name, resource), state in sorted(zone_states((zone, kind, up) for zone, kind, up in rows).items()):
        item = {"name": name, "resource": resource, "state": state}
        if all(str(item.get(k)) in values for k, values in filters.items() if k in item):
            out.append(item)
    return out


def parse_hints(value: Any) -> list[str]:
    """neutron-lib's availability_zone_hints validation: a list of zone names, at most 255
    characters once joined with commas (the column Neutron stores them in)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise errors.InvalidInput(error_message=f"'{value}' is not a list of availability zone names")
    if len(",".join(value)) > 255:
        raise errors.InvalidInput(error_message="Too many availability_zone_hints specified")
    return list(dict.fromkeys(value))


def validate_hints(session: Session, resource: str, hints: list[str]) -> None:
    if not hints:
        return
    known = set(session.scalars(
        select(Agent.availability_zone).where(Agent.agent_type == AGENT_OF_RESOURCE[resource]).distinct()
    ))
    for zone in hints:
        if zone not in known:
            raise errors.AvailabilityZoneNotFound(availability_zone=zone)


def split(stored: str | None) -> list[str]:
    return [z for z in (stored or "").split(",") if z]


def _zones_of(binding: Any, resource_col: Any, agent_col: Any) -> ByIds:
    """(resource id, zone) of the agents hosting the resources, prebuilt (db.by_ids)."""
    return ByIds(lambda cond: select(resource_col, Agent.availability_zone)
                 .join(Agent, Agent.id == agent_col).where(cond(resource_col)))  # fmt: skip


_NETWORK_ZONES = _zones_of(NetworkDhcpAgentBinding, NetworkDhcpAgentBinding.network_id,
                           NetworkDhcpAgentBinding.dhcp_agent_id)  # fmt: skip
_ROUTER_ZONES = _zones_of(RouterL3AgentBinding, RouterL3AgentBinding.router_id, RouterL3AgentBinding.l3_agent_id)


def hosting_zones(db: Session | Connection, reads: ByIds, ids: list[str]) -> dict[str, list[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for rid, zone in reads.rows(connection_of(db), ids):
        if zone:
            out[rid].add(zone)
    return {rid: sorted(zones) for rid, zones in out.items()}


def network_zones(db: Session | Connection, ids: list[str]) -> dict[str, list[str]]:
    return hosting_zones(db, _NETWORK_ZONES, ids)


def router_zones(db: Session | Connection, ids: list[str]) -> dict[str, list[str]]:
    return hosting_zones(db, _ROUTER_ZONES, ids)


def store_hints(session: Session, resource: str, obj: Any, data: dict[str, Any]) -> None:
    """Validate and keep a new network's or router's hints (comma-separated, as Neutron)."""
    hints = parse_hints(data.get(HINTS))
    validate_hints(session, resource, hints)
    obj.az_hints = ",".join(hints)


class NetworkAvailabilityZones(Extension):
    """availability_zone_hints (POST only, as in Neutron) and availability_zones of networks."""

    name = "network_availability_zone"

    def after_create(self, session: Session, ctx: Context, cfg: Any, obj: Any, data: dict[str, Any]) -> None:
        if data.get(HINTS):
            store_hints(session, "network", obj, data)
            session.execute(Network.__table__.update().where(Network.__table__.c.id == obj.id).values(az_hints=obj.az_hints))

    def render(self, db: Session | Connection, rows: list[Any], dicts: list[dict[str, Any]]) -> None:
        zones = network_zones(db, [r.id for r in rows])
        for row, d in zip(rows, dicts, strict=True):
            d[HINTS] = split(getattr(row, "az_hints", ""))
            d[ZONES] = zones.get(row.id, [])
