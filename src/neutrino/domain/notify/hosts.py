"""Keys (``changes.py``) -> the hosts they reach, each with what to look at there.

Every kind is answered with index queries over the bindings (ports bound to a host, DHCP and L3
agents hosting a network or router, the members and rules of security groups); none projects a
host. The answer maps each host to its ``Hints``: the ports, networks, security groups and
routers whose change reached it, and the agent roles it concerns (``roles.py``), which the
notification carries to the agent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, literal, select, union_all

from neutrino.domain.models import (
    Agent,
    FloatingIP,
    NetworkDhcpAgentBinding,
    NetworkSegment,
    Port,
    PortBinding,
    QosNetworkBinding,
    QosPortBinding,
    Router,
    RouterL3AgentBinding,
    RouterPort,
    SecurityGroupPortBinding,
    SecurityGroupRule,
    SubPort,
    Subnet,
    Trunk,
)
from neutrino.domain.notify.changes import Key
from neutrino.domain.notify.roles import roles_of
from neutrino.domain.projection.lookups import TUNNEL_TYPES, UNBOUND

CHUNK = 500
"""Ids per IN list (SQLite's limit on bound parameters is far above; PostgreSQL plans stay cheap)."""


@dataclass
class Hints:
    """What reached one host: the ids an agent can start looking from."""

    ports: set[str] = field(default_factory=set)
    networks: set[str] = field(default_factory=set)
    security_groups: set[str] = field(default_factory=set)
    routers: set[str] = field(default_factory=set)
    roles: set[str] = field(default_factory=set)  # the agent roles concerned (``roles.py``)

    def merge(self, other: Hints) -> None:
        self.ports |= other.ports
        self.networks |= other.networks
        self.security_groups |= other.security_groups
        self.routers |= other.routers
        self.roles |= other.roles

    def as_message(self, limit: int = 100) -> dict[str, Any]:
        """The message's fields: sorted ids, at most ``limit`` of each (a bigger change is a
        full look anyway), and ``more`` when some were left out: then the hints are not all
        that changed, and an agent looks at everything."""
        fields = ("ports", "networks", "security_groups", "routers")
        out: dict[str, Any] = {name: sorted(getattr(self, name))[:limit] for name in fields}
        if any(len(getattr(self, name)) > limit for name in fields):
            out["more"] = True
        return {**out, "roles": sorted(self.roles)} if self.roles else out


HINT_OF = {"port": "ports", "network": "networks", "sg": "security_groups", "router": "routers",
           "port_members": "security_groups"}  # fmt: skip
"""Which hint field a kind's ids fill (by the kind, else by its first word)."""

Found = dict[str, set[str]]  # host -> the ids (of the kind asked) that reached it


def padded(chunk: list[str]) -> list[str]:
    """``chunk`` with its last id repeated up to the next power of two (at most ``CHUNK``).

    An IN list's length is part of its SQL text, and SQLite's driver keeps every distinct
    statement prepared (128 per connection), a long IN list's at about 80 KiB: lists of every
    length from 1 to 500 held 6 MiB of the server's memory after 500 port creates
    (docs/conformance.md, "API speed"). Ten lengths hold ten statements per query; a repeated
    id changes no IN's answer."""
    if not chunk:
        return chunk
    size = 1
    while size < len(chunk):
        size *= 2
    size = min(size, max(CHUNK, len(chunk)))
    return chunk + [chunk[-1]] * (size - len(chunk))


def _rows(db: Any, query: Any, ids: Iterable[str]) -> list[Any]:
    """``query(chunk)`` run over ``ids`` in chunks (of padded lengths); the rows, concatenated."""
    ids = sorted(set(ids))
    out: list[Any] = []
    for start in range(0, len(ids), CHUNK):
        out.extend(db.execute(query(padded(ids[start : start + CHUNK]))).all())
    return out


def _collect(found: Found, rows: Iterable[tuple[str, str]]) -> Found:
    for host, origin in rows:
        if host:
            found[host].add(origin)
    return found


def _pairs(db: Any, query: Any, ids: Iterable[str]) -> list[tuple[str, str]]:
    """(related id, origin id) pairs; ``query`` selects them for a chunk of origin ids."""
    return [(a, b) for a, b in _rows(db, query, ids)]


def _via(db: Any, kind_ids: list[tuple[str, str]], resolve: Any) -> Found:
    """Resolve the related ids of ``kind_ids`` (related, origin) and report origins."""
    by_related: dict[str, set[str]] = defaultdict(set)
    for related, origin in kind_ids:
        by_related[related].add(origin)
    out: Found = defaultdict(set)
    for host, related in resolve(db, by_related).items():
        for r in related:
            out[host] |= by_related.get(r, set())
    return out


# --- the kinds --------------------------------------------------------------------------------


def bound_hosts(db: Any, port_ids: Iterable[str]) -> Found:
    return _collect(defaultdict(set), ((h, p) for p, h in _rows(db, lambda c: select(PortBinding.port_id, PortBinding.host).where(
        PortBinding.port_id.in_(c), PortBinding.vif_type.notin_(UNBOUND)), port_ids)))  # fmt: skip


def agent_hosts(db: Any, agent_ids: Iterable[str]) -> Found:
    rows = _rows(db, lambda c: select(Agent.id, Agent.host).where(Agent.id.in_(c)), agent_ids)
    return _collect(defaultdict(set), ((h, a) for a, h in rows))


def dhcp_hosts(db: Any, network_ids: Iterable[str]) -> Found:
    rows = _rows(db, lambda c: select(NetworkDhcpAgentBinding.network_id, Agent.host)
                 .join(Agent, Agent.id == NetworkDhcpAgentBinding.dhcp_agent_id)
                 .where(NetworkDhcpAgentBinding.network_id.in_(c)), network_ids)  # fmt: skip
    return _collect(defaultdict(set), ((h, n) for n, h in rows))


def router_hosts(db: Any, router_ids: Iterable[str]) -> Found:
    rows = _rows(db, lambda c: select(RouterL3AgentBinding.router_id, Agent.host)
                 .join(Agent, Agent.id == RouterL3AgentBinding.l3_agent_id)
                 .where(RouterL3AgentBinding.router_id.in_(c)), router_ids)  # fmt: skip
    return _collect(defaultdict(set), ((h, r) for r, h in rows))


def present_hosts(db: Any, network_ids: Iterable[str]) -> Found:
    """Hosts with a presence on each network: bound ports, DHCP agents, L3 agents of routers
    with a port on it (what ``projection/tunnels.py`` counts as sharing the network)."""
    ids = list(network_ids)
    found = _collect(defaultdict(set), ((h, n) for n, h in _rows(db, lambda c: select(Port.network_id, PortBinding.host)
        .join(PortBinding, PortBinding.port_id == Port.id)
        .where(Port.network_id.in_(c), PortBinding.vif_type.notin_(UNBOUND)).distinct(), ids)))  # fmt: skip
    for host, nets in dhcp_hosts(db, ids).items():
        found[host] |= nets
    rows = _rows(db, lambda c: select(Port.network_id, Agent.host)
                 .join(RouterPort, RouterPort.port_id == Port.id)
                 .join(RouterL3AgentBinding, RouterL3AgentBinding.router_id == RouterPort.router_id)
                 .join(Agent, Agent.id == RouterL3AgentBinding.l3_agent_id)
                 .where(Port.network_id.in_(c)).distinct(), ids)  # fmt: skip
    return _collect(found, ((h, n) for n, h in rows))


def tunnelled(db: Any, network_ids: Iterable[str]) -> set[str]:
    rows = _rows(db, lambda c: select(NetworkSegment.network_id).where(
        NetworkSegment.network_id.in_(c), NetworkSegment.network_type.in_(TUNNEL_TYPES)), network_ids)  # fmt: skip
    return {r[0] for r in rows}


def peer_hosts(db: Any, network_ids: Iterable[str]) -> Found:
    """Hosts present on the tunnelled ones among ``network_ids`` (their tunnel peers and remote
    ports change when a host or a bound port comes or goes there)."""
    return present_hosts(db, tunnelled(db, network_ids))


def rule_hosts(db: Any, group_ids: Iterable[str]) -> Found:
    """Hosts with a bound port in each group (the group's rules are theirs)."""
    pairs = _pairs(db, lambda c: select(SecurityGroupPortBinding.port_id, SecurityGroupPortBinding.security_group_id)
                   .where(SecurityGroupPortBinding.security_group_id.in_(c)), group_ids)  # fmt: skip
    return _via(db, pairs, bound_hosts)


def member_hosts(db: Any, group_ids: Iterable[str]) -> Found:
    """Hosts whose rules name each group as remote group (its members are in their sets)."""
    pairs = _pairs(db, lambda c: select(SecurityGroupRule.security_group_id, SecurityGroupRule.remote_group_id)
                   .where(SecurityGroupRule.remote_group_id.in_(c)).distinct(), group_ids)  # fmt: skip
    return _via(db, pairs, rule_hosts)


def address_group_hosts(db: Any, ag_ids: Iterable[str]) -> Found:
    pairs = _pairs(db, lambda c: select(SecurityGroupRule.security_group_id, SecurityGroupRule.remote_address_group_id)
                   .where(SecurityGroupRule.remote_address_group_id.in_(c)).distinct(), ag_ids)  # fmt: skip
    return _via(db, pairs, rule_hosts)


def _port_networks(db: Any, port_ids: Iterable[str]) -> list[tuple[str, str]]:
    return _pairs(db, lambda c: select(Port.network_id, Port.id).where(Port.id.in_(c)), port_ids)


def port_router_hosts(db: Any, port_ids: Iterable[str]) -> Found:
    pairs = _pairs(db, lambda c: select(RouterPort.router_id, RouterPort.port_id).where(RouterPort.port_id.in_(c)), port_ids)
    pairs += _pairs(db, lambda c: select(Router.id, Router.gw_port_id).where(Router.gw_port_id.in_(c)), port_ids)
    return _via(db, pairs, router_hosts)


def port_member_hosts(db: Any, port_ids: Iterable[str]) -> Found:
    """Hosts whose rules name a group of the ports as remote group; what reached each is those
    groups, not the ports (bound elsewhere, they are not the host's): its agent fetches the
    groups' members (``get_desired_parts``), as when the port's address changes (``STAGED``)."""
    pairs = _pairs(db, lambda c: select(SecurityGroupPortBinding.security_group_id, SecurityGroupPortBinding.port_id)
                   .where(SecurityGroupPortBinding.port_id.in_(c)), port_ids)  # fmt: skip
    return member_hosts(db, {group for group, _port in pairs})


def trunk_parent_hosts(db: Any, trunk_ids: Iterable[str]) -> Found:
    pairs = _pairs(db, lambda c: select(Trunk.port_id, Trunk.id).where(Trunk.id.in_(c)), trunk_ids)
    return _via(db, pairs, bound_hosts)


def subport_hosts(db: Any, port_ids: Iterable[str]) -> Found:
    pairs = _pairs(db, lambda c: select(SubPort.trunk_id, SubPort.port_id).where(SubPort.port_id.in_(c)), port_ids)
    return _via(db, pairs, trunk_parent_hosts)


def network_port_hosts(db: Any, network_ids: Iterable[str]) -> Found:
    rows = _rows(db, lambda c: select(Port.network_id, PortBinding.host).join(PortBinding, PortBinding.port_id == Port.id)
                 .where(Port.network_id.in_(c), PortBinding.vif_type.notin_(UNBOUND)).distinct(), network_ids)  # fmt: skip
    return _collect(defaultdict(set), ((h, n) for n, h in rows))


def qos_hosts(db: Any, policy_ids: Iterable[str]) -> Found:
    ids = list(policy_ids)
    out = _via(db, _pairs(db, lambda c: select(QosPortBinding.port_id, QosPortBinding.qos_policy_id)
                          .where(QosPortBinding.qos_policy_id.in_(c)), ids), bound_hosts)  # fmt: skip
    nets = _via(db, _pairs(db, lambda c: select(QosNetworkBinding.network_id, QosNetworkBinding.qos_policy_id)
                           .where(QosNetworkBinding.qos_policy_id.in_(c)), ids), network_port_hosts)  # fmt: skip
    for host, found in nets.items():
        out[host] |= found
    return out


def agent_peer_hosts(db: Any, agent_ids: Iterable[str]) -> Found:
    """An agent that goes takes its host off the networks it served: their peers change."""
    ids = list(agent_ids)
    nets = _pairs(db, lambda c: select(NetworkDhcpAgentBinding.network_id, NetworkDhcpAgentBinding.dhcp_agent_id)
                  .where(NetworkDhcpAgentBinding.dhcp_agent_id.in_(c)), ids)  # fmt: skip
    nets += _pairs(db, lambda c: select(Port.network_id, RouterL3AgentBinding.l3_agent_id)
                   .join(RouterPort, RouterPort.port_id == Port.id)
                   .join(RouterL3AgentBinding, RouterL3AgentBinding.router_id == RouterPort.router_id)
                   .where(RouterL3AgentBinding.l3_agent_id.in_(c)), ids)  # fmt: skip
    out = _via(db, nets, peer_hosts)
    for host, found in agent_hosts(db, ids).items():
        out[host] |= found
    return out


def host_peer_hosts(db: Any, hosts: Iterable[str]) -> Found:
    """A host's tunnel endpoint changed: the hosts sharing a tunnelled network with it."""
    names = list(hosts)
    nets = _pairs(db, lambda c: select(Port.network_id, PortBinding.host).join(PortBinding, PortBinding.port_id == Port.id)
                  .where(PortBinding.host.in_(c), PortBinding.vif_type.notin_(UNBOUND)).distinct(), names)  # fmt: skip
    nets += _pairs(db, lambda c: select(NetworkDhcpAgentBinding.network_id, Agent.host)
                   .join(Agent, Agent.id == NetworkDhcpAgentBinding.dhcp_agent_id).where(Agent.host.in_(c)), names)  # fmt: skip
    nets += _pairs(db, lambda c: select(Port.network_id, Agent.host).join(RouterPort, RouterPort.port_id == Port.id)
                   .join(RouterL3AgentBinding, RouterL3AgentBinding.router_id == RouterPort.router_id)
                   .join(Agent, Agent.id == RouterL3AgentBinding.l3_agent_id).where(Agent.host.in_(c)), names)  # fmt: skip
    return _via(db, nets, peer_hosts)


def _network_of(query: Any, resolve: Any) -> Any:
    def kind(db: Any, ids: Iterable[str]) -> Found:
        return _via(db, _pairs(db, query, ids), resolve)

    return kind


RESOLVERS: dict[str, Any] = {
    "host": lambda db, ids: {h: {h} for h in ids},
    "port_host": bound_hosts,
    "port_dhcp": lambda db, ids: _via(db, _port_networks(db, ids), dhcp_hosts),
    "port_router": port_router_hosts,
    "port_peers": lambda db, ids: _via(db, _port_networks(db, ids), peer_hosts),
    "port_members": port_member_hosts,
    "port_trunk": subport_hosts,
    "sg_rules": rule_hosts,
    "sg_members": member_hosts,
    "address_group": address_group_hosts,
    "network": present_hosts,
    "network_dhcp": dhcp_hosts,
    "network_peers": peer_hosts,
    "network_ports": network_port_hosts,
    "subnet_dhcp": _network_of(lambda c: select(Subnet.network_id, Subnet.id).where(Subnet.id.in_(c)), dhcp_hosts),
    "subnetpool": _network_of(lambda c: select(Subnet.network_id, Subnet.subnetpool_id).where(Subnet.subnetpool_id.in_(c)),
                              present_hosts),
    "router": router_hosts,
    "router_peers": _network_of(lambda c: select(Port.network_id, RouterPort.router_id)
                                .join(RouterPort, RouterPort.port_id == Port.id).where(RouterPort.router_id.in_(c)), peer_hosts),
    "floatingip": _network_of(lambda c: select(FloatingIP.router_id, FloatingIP.id).where(FloatingIP.id.in_(c)), router_hosts),
    "qos": qos_hosts,
    "trunk": trunk_parent_hosts,
    "agent": agent_peer_hosts,
    "agent_only": agent_hosts,
    "host_peers": host_peer_hosts,
}  # fmt: skip
"""Kind -> ``resolve(db, ids) -> {host: ids that reached it}``. ``db`` is a Session or a
Connection (``capture.py`` resolves old rows on the writer's connection, before they change)."""


STAGED: dict[str, tuple[str, str]] = {
    "port_dhcp": ("port_network", "network_dhcp"),
    "port_peers": ("port_network", "network_peers"),
    "port_members": ("port_groups", "sg_members"),
    "port_router": ("port_routers", "router"),
    "port_trunk": ("port_trunk", "trunk"),
}
"""Port kinds answered in two stages before a write: kind -> (the hop, the kind it leads to).
Only the hop reads rows that hang off the port (its network, groups, router interfaces, trunk),
which its deletion cascades away; what lies beyond (a network's DHCP agents and peers, the
users of a group, a router's agents, a trunk's parent) is not changed by the port's deletion
or move, so the notifier answers it after the commit, once per pass for every port of a burst
(what the port's own host loses, ``port_host``, is answered before the write, in the same
query as the hops)."""


def _port_hops(cond: Any) -> Any:
    """One statement for every hop and the bound host of ports, built once (its compiled form
    is cached): rows of (hop, related id, port id). ``cond(column, i)``: the id test of branch i."""
    unbound = [literal(v) for v in UNBOUND]  # plain bound values: no IN list expanded per execution
    return union_all(
        select(literal("port_host"), PortBinding.host, PortBinding.port_id)
        .where(cond(PortBinding.port_id, 0), PortBinding.vif_type.notin_(unbound)),
        select(literal("port_network"), Port.network_id, Port.id).where(cond(Port.id, 1)),
        select(literal("port_groups"), SecurityGroupPortBinding.security_group_id, SecurityGroupPortBinding.port_id)
        .where(cond(SecurityGroupPortBinding.port_id, 2)),
        select(literal("port_routers"), RouterPort.router_id, RouterPort.port_id).where(cond(RouterPort.port_id, 3)),
        select(literal("port_routers"), Router.id, Router.gw_port_id).where(cond(Router.gw_port_id, 4)),
        select(literal("port_trunk"), SubPort.trunk_id, SubPort.port_id).where(cond(SubPort.port_id, 5)),
    )  # fmt: skip


PORT_HOPS = _port_hops(lambda column, i: column.in_(bindparam(f"ids{i}", expanding=True)))
PORT_HOPS_ONE = _port_hops(lambda column, _i: column == bindparam("id"))
"""The same for one port (a port's delete): no IN list to write out at each execution, a
quarter of the statement's cost."""


def resolve_before(db: Any, keys: Iterable[Key]) -> tuple[dict[str, Hints], set[Key]]:
    """Keys of rows about to change or go: the hosts found now, and the keys (``STAGED``) to
    answer after the commit. A port's deletion then costs one query on the rows that hang off
    it instead of every chain from the port to its hosts."""
    now: set[Key] = set()
    wanted: dict[str, set[str]] = defaultdict(set)  # kind (port_host or STAGED) -> port ids
    for kind, ident in keys:
        if kind in STAGED or kind == "port_host":
            wanted[kind].add(ident)
        else:
            now.add((kind, ident))
    hosts = resolve(db, now)
    later: set[Key] = set()
    port_ids = sorted(set().union(*wanted.values())) if wanted else []
    for start in range(0, len(port_ids), CHUNK):
        chunk = padded(port_ids[start : start + CHUNK])
        found: dict[str, list[tuple[str, str]]] = defaultdict(list)
        if len(chunk) == 1:
            rows = db.execute(PORT_HOPS_ONE, {"id": chunk[0]})
        else:
            rows = db.execute(PORT_HOPS, {f"ids{i}": chunk for i in range(6)})
        for hop, related, port in rows:
            if related:
                found[hop].append((related, port))
        for host, port in found["port_host"]:
            if port in wanted["port_host"]:
                hosts.setdefault(host, Hints()).ports.add(port)
                hosts[host].roles.update(roles_of("port_host"))
        for kind, (hop, next_kind) in STAGED.items():
            later |= {(next_kind, related) for related, port in found[hop] if port in wanted[kind]}
    return hosts, later


def resolve(db: Any, keys: Iterable[Key]) -> dict[str, Hints]:
    """The hosts the keys reach, each with its hints."""
    by_kind: dict[str, set[str]] = defaultdict(set)
    for kind, ident in keys:
        by_kind[kind].add(ident)
    out: dict[str, Hints] = defaultdict(Hints)
    for kind, ids in by_kind.items():
        hint = HINT_OF.get(kind, HINT_OF.get(kind.split("_")[0]))
        for host, origins in RESOLVERS[kind](db, ids).items():
            hints = out[host]
            hints.roles.update(roles_of(kind))
            if hint is not None:
                getattr(hints, hint).update(origins)
    return dict(out)
