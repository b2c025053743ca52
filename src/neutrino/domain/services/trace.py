"""``GET /v2.0/trace``'s domain part: the intent's path of one packet and the probes that check
it on the dataplane (docs/trace.md). Reads only; the API asks the agents and writes the report."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.config import DomainConfig
from neutrino.domain.models import Agent
from neutrino.domain.services import agents, trace_world
from neutrino.tools.trace import intent, probes
from neutrino.tools.trace.world import TraceInputError, World, resolve

PROTOCOLS = ("icmp", "tcp", "udp")


@dataclass
class Query:
    source: str
    destination: str
    protocol: str = "icmp"
    port: int | None = None
    source_ip: str | None = None


@dataclass
class Prepared:
    world: World
    plan: intent.Plan
    probes: list[probes.Probe]
    down: dict[str, str]
    """host -> why its L2 agent will not answer (no heartbeat within ``agent_down_time``)."""


def parse(params: dict[str, str]) -> Query:
    """The query string's ``from``, ``to``, ``protocol``, ``port``, ``source_ip``, checked."""
    src, dst = params.get("from", "").strip(), params.get("to", "").strip()
    if not src or not dst:
        raise errors.InvalidInput(error_message="trace needs 'from' and 'to'")
    protocol = params.get("protocol", "icmp").lower()
    if protocol not in PROTOCOLS:
        raise errors.InvalidInput(error_message=f"protocol {protocol!r}: one of {', '.join(PROTOCOLS)}")
    port = None
    if params.get("port"):
        if protocol == "icmp":
            raise errors.InvalidInput(error_message="a port is for tcp or udp")
        try:
            port = int(params["port"])
        except ValueError:
            port = 0
        if not 1 <= port <= 65535:
            raise errors.InvalidInput(error_message=f"port {params['port']!r}: 1 to 65535")
    source_ip = params.get("source_ip") or None
    if source_ip is not None:
        try:
            ipaddress.ip_address(source_ip)
        except ValueError:
            raise errors.InvalidInput(error_message=f"source_ip {source_ip!r} is not an IP address") from None
    return Query(src, dst, protocol, port, source_ip)


def prepare(session: Session, cfg: DomainConfig, query: Query) -> Prepared:
    world = trace_world.build(session)
    try:
        src = resolve(world, query.source, role="FROM")
        dst = resolve(world, query.destination, role="TO")
        plan = intent.plan(world, src, dst, query.protocol, query.port, query.source_ip)
    except TraceInputError as exc:
        raise errors.TraceNotPossible(msg=str(exc)) from None
    found = probes.probes(world, plan)
    hosts = {p.host for p in found}
    rows = session.scalars(select(Agent).where(Agent.host.in_(hosts), Agent.agent_type == trace_world.L2_AGENT)).all()
    alive = {a.host for a in rows if agents.is_alive(a, cfg)}
    down = {h: f"the agent on {h} is down (no heartbeat for over {cfg.agent_down_time} s)" for h in hosts - alive}
    return Prepared(world, plan, found, down)
