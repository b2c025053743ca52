"""An agent's last whole desired state + the parts a notification named -> its new state (pure).

What ``merge`` can tell from parts (``contract.desired.DesiredParts``): which of the asked ports
are bound here now and as what, the asked groups' rules, the members of the groups either
reaches, the asked ports' DHCP entries on the networks this host serves, and, when the answer
carries them, the host's tunnel peers and remote ports (what a port bound elsewhere changes).
What it cannot, it refuses (None), and the agent fetches its whole state: a named port that
neither was nor is bound here when the answer has no tunnel peers (an older server), a router's
port, this host's own DHCP port, a change to the networks the host serves DHCP for or its ports
sit on (its tunnel peers follow them), a trunk, or a remote group no answer or cache holds.
A merged state carries no ``fingerprint`` (empty): the agent never reads it, and digesting the
whole state was a sixth of a members-only pass; ``with_fingerprint`` gives the one a whole
fetch would carry.
"""

from __future__ import annotations

from dataclasses import replace

import orjson

DHCP_OWNER = "network:dhcp"

from neutrino.contract.desired import BoundPort, DesiredHostState, DesiredParts, DhcpNetwork, DhcpPort, RemoteGroup, SecurityRule


def _rules_with(port: BoundPort, fresh: dict[str, tuple[SecurityRule, ...]]) -> tuple[SecurityRule, ...]:
    """The port's rules with the fresh groups' rules in place of its old ones (group by group,
    in its groups' order, as the projection lists them)."""
    return tuple(
        r
        for g in port.security_groups
        for r in (fresh[g] if g in fresh else tuple(x for x in port.rules if x.security_group_id == g))
    )


def merge(cached: DesiredHostState, parts: DesiredParts) -> DesiredHostState | None:
    """``cached`` with ``parts`` in it, or None when the parts cannot say (fetch it whole)."""
    if parts.host != cached.host or parts.format_version != cached.format_version:
        return None
    returned = {p.port_id: p for p in parts.ports}
    by_id = {p.port_id: p for p in cached.ports}
    if set(returned) - set(parts.asked_ports):
        return None
    if parts.tunnel_peers is None and any(pid not in by_id and pid not in returned for pid in parts.asked_ports):
        return None  # it reached this host some other way than being bound here: peers unknown
    if parts.asked_ports and cached.trunks:
        return None  # a trunk's parent or subport may be among them
    if parts.asked_ports and cached.routers:
        routers = orjson.dumps(cached.routers)
        if any(pid.encode() in routers for pid in parts.asked_ports):
            return None  # a router's interface, gateway or floating IP's port: the L3 part changes
    dhcp = _dhcp_networks(cached.dhcp_networks, parts)
    if dhcp is None:
        return None
    for pid in parts.asked_ports:
        by_id.pop(pid, None)
    by_id.update(returned)
    fresh = {g.group_id: g.rules for g in parts.group_rules}
    ports = []
    for port in sorted(by_id.values(), key=lambda p: p.port_id):
        if port.port_id not in returned and fresh.keys() & set(port.security_groups):
            rules = _rules_with(port, fresh)
            if rules != port.rules:  # else the same object: the firewall sees the port unchanged
                port = replace(port, rules=rules)
        ports.append(port)
    if {p.network_id for p in ports} != {p.network_id for p in cached.ports}:
        return None  # the host joined or left a network: its tunnel peers and remote ports move
    groups = _remote_groups(ports, parts.remote_groups, cached.remote_groups)
    if groups is None:
        return None
    merged = replace(cached, ports=tuple(ports), remote_groups=groups, dhcp_networks=dhcp)
    if parts.tunnel_peers is not None:
        merged = replace(merged, tunnel_peers=parts.tunnel_peers, local_tunnel_ip=parts.local_tunnel_ip,
                         remote_ports=parts.remote_ports or ())  # fmt: skip
    return replace(merged, fingerprint="")


def _dhcp_networks(cached: tuple[DhcpNetwork, ...], parts: DesiredParts) -> tuple[DhcpNetwork, ...] | None:
    """The DHCP networks with the asked ports' entries as answered (added, changed, or gone if
    unanswered), or None when the answer cannot tell: the networks served differ from the
    cache's, or an asked port is a DHCP port (this host's own may be one just made)."""
    if not parts.asked_ports or not cached and not parts.dhcp_ports and not parts.dhcp_networks:
        return cached
    if parts.dhcp_networks is None or set(parts.dhcp_networks) != {n.network_id for n in cached}:
        return None
    asked = set(parts.asked_ports)
    if any(asked & set(n.dhcp_port_ids) for n in cached) or any(e.port.device_owner == DHCP_OWNER for e in parts.dhcp_ports):
        return None  # a DHCP port (this host's may be among them: its namespace's device)
    fresh: dict[str, list[DhcpPort]] = {}
    for entry in parts.dhcp_ports:
        fresh.setdefault(entry.network_id, []).append(entry.port)
    out = []
    for net in cached:
        if net.network_id in fresh or any(p.port_id in asked for p in net.ports):
            kept = [p for p in net.ports if p.port_id not in asked] + fresh.get(net.network_id, [])
            net = replace(net, ports=tuple(sorted(kept, key=lambda p: p.port_id)))
        out.append(net)
    return tuple(out)


def _remote_groups(
    ports: list[BoundPort], fresh: tuple[RemoteGroup, ...], old: tuple[RemoteGroup, ...]
) -> tuple[RemoteGroup, ...] | None:
    """The remote groups the ports' rules name (as the projection lists them: by id), each
    from the answer if it has it, else from the cache; None if neither has one."""
    needed = {r.remote_set_id for p in ports for r in p.rules if r.remote_set_id}
    have = {g.group_id: g for g in old} | {g.group_id: g for g in fresh}
    if needed - set(have):
        return None
    return tuple(have[g] for g in sorted(needed))
