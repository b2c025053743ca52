"""``GET /v2.0/audit``'s domain part (docs/audit.md): which hosts to ask, which cannot be asked,
and the API's side of the comparison (the status of the ports each agent says it wired).
Reads only; the API asks the agents."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.config import DomainConfig
from neutrino.domain.models import Agent
from neutrino.domain.models.port import Port
from neutrino.domain.services import agents

TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no", "")


@dataclass
class Query:
    host: str | None
    repair: bool


@dataclass
class Hosts:
    alive: list[str]
    down: dict[str, str]
    """host -> why its agents will not answer."""


def parse(params: dict[str, str], repair: bool = False) -> Query:
    host = (params.get("host") or "").strip() or None
    flag = (params.get("repair") or "").strip().lower()
    if flag not in TRUE + FALSE:
        raise errors.AuditBadQuery(msg=f"repair={params.get('repair')!r}: true or false")
    if host is not None and len(host) > 255:
        raise errors.AuditBadQuery(msg="host: at most 255 characters")
    return Query(host, repair or flag in TRUE)


def hosts(session: Session, cfg: DomainConfig, query: Query) -> Hosts:
    """The hosts to audit (one, or every host with an agent); a repair of a host whose agents
    are all down is refused (nothing but its agent may change its dataplane)."""
    rows = session.scalars(select(Agent)).all()
    by_host: dict[str, list[Agent]] = {}
    for a in rows:
        by_host.setdefault(a.host, []).append(a)
    if query.host is not None:
        if query.host not in by_host:
            raise errors.AuditHostNotFound(host=query.host)
        by_host = {query.host: by_host[query.host]}
    alive, down = [], {}
    for host, found in sorted(by_host.items()):
        if any(agents.is_alive(a, cfg) for a in found):
            alive.append(host)
        else:
            down[host] = f"the agent on {host} is down (no heartbeat for over {cfg.agent_down_time} s)"
    if query.repair and query.host is not None and query.host in down:
        raise errors.AuditRepairRefused(host=query.host, why=down[query.host])
    return Hosts(alive, down)


def port_statuses(session: Session, port_ids: Iterable[str]) -> dict[str, str]:
    ids = sorted(set(port_ids))
    if not ids:
        return {}
    return {pid: status for pid, status in session.execute(select(Port.id, Port.status).where(Port.id.in_(ids)))}
