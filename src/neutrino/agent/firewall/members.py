"""The conntrack entries a remote group's lost member no longer allows.

A rule with a remote group matches the group's member set; when an address leaves the group
(its port left the group, or was deleted), the set loses it, but an established connection from
(ingress) or to (egress) that address goes on through the ``ct state established`` accept. As
Neutron does (docs/neutron-behaviour.md, "Conntrack on remote group member removal"), the
entries go (here marked cut, ``state_marks.CUT``, rather than deleted), in the zone of each
filtered port whose rules name that group, so the next packet is judged by the remaining rules.

How exact. Neutron deletes every entry between the port and the removed address, both
directions, all protocols. Here each filter follows one rule that names the group: its direction
(ingress: from the address to the port's addresses; egress: from the port to the address), its
ethertype, its protocol, and its destination port when the rule names a single one. An address
a port's other rule still allows for the same traffic (same direction and ethertype, a protocol
and port range covering the rule's, a remote that is any, a prefix holding it, or a group still
holding it) is left alone for that rule. A removed address still inside another of the group's
prefixes (an address pair's CIDR) was not removed from what the set matches and flushes nothing.
An address group (listed as a ``RemoteGroup`` too) that loses a CIDR flushes the same way, by
prefix (``--mask-src``/``--mask-dst``).

Pure: remote groups and ports in, ``conntrack`` filter argument lists out.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence

from neutrino.agent.firewall import rules
from neutrino.agent.firewall.conntrack import protocol_filter, zones
from neutrino.contract import protocols
from neutrino.contract.desired import BoundPort, RemoteGroup, SecurityRule

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Removed = dict[tuple[str, int], list[Network]]
"""(remote group id, IP version) -> the prefixes the group no longer matches."""


def _networks(addrs: Iterable[str]) -> list[Network]:
    return [ipaddress.ip_network(a, strict=False) for a in addrs]


def removed_members(before: Iterable[RemoteGroup], after: Iterable[RemoteGroup]) -> Removed:
    """What each remote group matched before and does not now; a group gone from ``after`` lost
    every member. Groups that are the same object (the merge kept them) cost one comparison."""
    now = {g.group_id: g for g in after}
    out: Removed = {}
    for old in before:
        new = now.get(old.group_id)
        if new is old:
            continue
        for version, was, still in ((4, old.ipv4, new.ipv4 if new else ()), (6, old.ipv6, new.ipv6 if new else ())):
            gone_raw = set(was) - set(still)
            if not gone_raw:
                continue
            kept = _networks(still)
            gone = [n for n in _networks(sorted(gone_raw)) if not _inside(n, kept)]
            if gone:
                out[(old.group_id, version)] = gone
    return out


def _inside(net: Network, prefixes: Iterable[Network]) -> bool:
    return any(net.version == p.version and net.subnet_of(p) for p in prefixes)  # type: ignore[arg-type]


def _match(flag: str, net: Network) -> list[str]:
    """``-s``/``-d`` for one address, with ``--mask-src``/``--mask-dst`` for a wider prefix."""
    if net.prefixlen == net.max_prefixlen:
        return [flag, str(net.network_address)]
    return [flag, str(net.network_address), "--mask-src" if flag == "-s" else "--mask-dst", str(net.netmask)]


def _covers(other: SecurityRule, rule: SecurityRule) -> bool:
    """``other`` allows (at least) the traffic ``rule`` did, remotes aside."""
    if (other.direction, other.ethertype) != (rule.direction, rule.ethertype):
        return False
    theirs = protocols.canonical_for(other.protocol, other.ethertype)
    if theirs is None:
        return True
    if theirs != protocols.canonical_for(rule.protocol, rule.ethertype):
        return False
    if other.port_range_min is None:
        return True
    if rule.port_range_min is None:
        return False
    high = rule.port_range_max if rule.port_range_max is not None else rule.port_range_min
    other_high = other.port_range_max if other.port_range_max is not None else other.port_range_min
    return other.port_range_min <= rule.port_range_min and high <= other_high


def _allows(other: SecurityRule, net: Network, members: Mapping[str, RemoteGroup]) -> bool:
    if other.remote_ip_prefixes:
        return _inside(net, _networks(other.remote_ip_prefixes))
    group_id = other.remote_set_id
    if group_id is None:
        return True  # any remote
    group = members.get(group_id)
    addrs = () if group is None else (group.ipv4 if net.version == 4 else group.ipv6)
    return _inside(net, _networks(addrs))


def _own(port: BoundPort, version: int) -> list[Network]:
    addrs = [f.ip_address for f in port.fixed_ips] + [ip for ip, _mac in port.allowed_address_pairs]
    out: list[Network] = []
    for net in _networks(addrs):
        if net.version == version and net not in out:
            out.append(net)
    return out


def _rule_filters(port: BoundPort, rule: SecurityRule, remote: Network, zone: int) -> list[list[str]]:
    out = []
    for own in _own(port, remote.version):
        argv = ["-w", str(zone), "-f", "ipv6" if remote.version == 6 else "ipv4"]
        if rule.direction == "ingress":
            argv += _match("-d", own) + _match("-s", remote)
        else:
            argv += _match("-s", own) + _match("-d", remote)
        out.append(argv + protocol_filter(rule))
    return out


def removed_member_filters(ports: Sequence[BoundPort], removed: Removed, groups: Iterable[RemoteGroup]) -> list[list[str]]:
    """``conntrack`` filters, for each filtered port whose rules name a group in ``removed``,
    of its connections with the addresses that group lost; ``groups`` are the groups now."""
    if not removed:
        return []
    members = {g.group_id: g for g in groups}
    by_net = zones(p.network_id for p in ports)
    out: list[list[str]] = []
    for port in sorted(ports, key=lambda p: p.port_id):
        if not rules.filtered(port):
            continue
        for rule in port.rules:
            version = 6 if rule.ethertype == "IPv6" else 4
            gone = removed.get((rule.remote_set_id or "", version)) if not rule.remote_ip_prefixes else None
            for net in gone or ():
                others = [r for r in port.rules if r is not rule and r != rule and _covers(r, rule)]
                if any(_allows(r, net, members) for r in others):
                    continue
                for argv in _rule_filters(port, rule, net, by_net[port.network_id]):
                    if argv not in out:
                        out.append(argv)
    return out
