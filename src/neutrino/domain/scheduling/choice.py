"""Pure scheduling decisions: which agents are alive, eligible, least loaded, or dead too long.

Everything here is data in, data out (no database, no clock): the DB glue in ``dhcp``, ``l3``
and ``failover`` loads ``AgentView``s and binding counts, asks these functions, and writes the
answer. Keeping the choice pure makes the rules (Neutron's WeightScheduler / LeastRoutersScheduler
and its dead-agent failover) testable with injected times and hand-made agents.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

DHCP_AGENT = "DHCP agent"
L3_AGENT = "L3 agent"
OVS_AGENT = "Open vSwitch agent"
LINUXBRIDGE_AGENT = "Linux bridge agent"
L2_AGENT_TYPES = (OVS_AGENT, LINUXBRIDGE_AGENT)

# L3 agent modes that never host a centralised (legacy) router
_NO_ROUTER_MODES = ("dvr", "dvr_no_external")


@dataclass(frozen=True)
class AgentView:
    """What a scheduling decision needs to know about one agent."""

    id: str
    host: str
    agent_type: str
    admin_state_up: bool
    heartbeat: datetime
    configurations: Mapping[str, Any] = field(default_factory=dict)
    availability_zone: str | None = None


def in_zones(agent: AgentView, hints: Sequence[str]) -> bool:
    """An agent may take a resource with availability_zone_hints only in one of those zones."""
    return not hints or agent.availability_zone in hints


def spread_over_zones(ranked: Sequence[AgentView], count: int, taken: Iterable[str | None] = ()) -> list[str]:
    """The first ``count`` of ``ranked``, taking agents of zones not used yet first (Neutron's
    AZ-aware DHCP scheduler: a network's agents in as many zones as possible)."""
    zones = set(taken)
    first = [a for a in ranked if a.availability_zone not in zones and not zones.add(a.availability_zone)]  # type: ignore[func-returns-value]
    rest = [a for a in ranked if a not in first]
    return [a.id for a in (first + rest)[:count]]


def is_alive(heartbeat: datetime, now: datetime, down_time: int) -> bool:
    """Neutron's rule: an agent is down once its last heartbeat is older than agent_down_time."""
    return now - heartbeat <= timedelta(seconds=down_time)


def dead_limit(down_time: int) -> timedelta:
    """How long an agent must have been silent before its work is moved elsewhere.

    Dead (silent for agent_down_time) and then dead for agent_down_time more: twice the down
    time, Neutron's ``agent_dead_limit_seconds``. A short network hiccup never moves anything.
    """
    return timedelta(seconds=2 * down_time)


def is_dead_too_long(heartbeat: datetime, now: datetime, down_time: int) -> bool:
    return now - heartbeat > dead_limit(down_time)


def usable(agent: AgentView, now: datetime, down_time: int) -> bool:
    """May receive new work: alive and enabled by the operator."""
    return agent.admin_state_up and is_alive(agent.heartbeat, now, down_time)


def least_loaded(candidates: Iterable[AgentView], loads: Mapping[str, int], count: int) -> list[str]:
    """The ``count`` candidates hosting the fewest items; ties broken by host, then id, so the
    choice is deterministic (and spreads evenly when called repeatedly)."""
    if count <= 0:
        return []
    ranked = sorted(candidates, key=lambda a: (loads.get(a.id, 0), a.host, a.id))
    return [a.id for a in ranked[:count]]


def choose_dhcp_agents(
    agents: Sequence[AgentView],
    hosting: Iterable[str],
    loads: Mapping[str, int],
    *,
    per_network: int,
    now: datetime,
    down_time: int,
    hints: Sequence[str] = (),
) -> list[str]:
    """DHCP agents to add to a network so that ``per_network`` agents host it.

    Agents already hosting count (even dead ones: they are moved by failover, not here); new
    ones must be live, enabled DHCP agents not hosting it yet, in the network's hinted zones
    (any zone without hints), spread over zones.
    """
    hosting = set(hosting)
    wanted = per_network - len(hosting)
    if wanted <= 0:
        return []
    candidates = [
        a for a in agents
        if a.agent_type == DHCP_AGENT and a.id not in hosting and usable(a, now, down_time) and in_zones(a, hints)
    ]
    ranked = sorted(candidates, key=lambda a: (loads.get(a.id, 0), a.host, a.id))
    return spread_over_zones(ranked, wanted, (a.availability_zone for a in agents if a.id in hosting))


def can_host_router(agent: AgentView, gateway_network_id: str | None, router_id: str) -> bool:
    """The L3 agent's own configuration allows this router (Neutron's get_l3_agent_candidates):
    not a DVR-only compute agent, not pinned to another router, and willing to host a router
    without a gateway or with this gateway network."""
    conf = agent.configurations
    if agent.agent_type != L3_AGENT:
        return False
    if conf.get("agent_mode", "legacy") in _NO_ROUTER_MODES:
        return False
    pinned = conf.get("router_id")
    if pinned and pinned != router_id:
        return False
    if gateway_network_id is None:
        return bool(conf.get("handle_internal_only_routers", True))
    only = conf.get("gateway_external_network_id")
    return not only or only == gateway_network_id


def choose_l3_agent(
    agents: Sequence[AgentView],
    loads: Mapping[str, int],
    *,
    router_id: str,
    gateway_network_id: str | None,
    now: datetime,
    down_time: int,
    exclude: Iterable[str] = (),
    hints: Sequence[str] = (),
) -> str | None:
    """The live, enabled, suitable L3 agent hosting the fewest routers (or None), in one of
    the router's hinted zones if it has any."""
    excluded = set(exclude)
    candidates = [
        a for a in agents
        if a.id not in excluded
        and usable(a, now, down_time)
        and in_zones(a, hints)
        and can_host_router(a, gateway_network_id, router_id)
    ]
    chosen = least_loaded(candidates, loads, 1)
    return chosen[0] if chosen else None


def dead_agents(agents: Iterable[AgentView], now: datetime, down_time: int) -> list[AgentView]:
    """Enabled agents silent for longer than the dead limit, whose work should move.

    Agents an operator disabled keep their bindings: disabling is a deliberate act (Neutron's
    get_down_bindings filters on admin_state_up too).
    """
    return [a for a in agents if a.admin_state_up and is_dead_too_long(a.heartbeat, now, down_time)]
