"""Connection tracking for the firewall: one conntrack zone per network, and the entries a
removed rule no longer allows.

Zones. The bridged traffic of every port is tracked in the host namespace; without zones, two
projects that use the same CIDR and the same addresses on one host share conntrack entries (a
reply in one network could match a connection of the other). The constant CT table therefore
gets a chain at raw priority (before conntrack) that sets ``ct zone`` from the bridge the packet
enters: a network's ``brq`` bridge (Linux bridge agent) or a port's ``qbr`` (hybrid plug) map
to that network's zone. Zones come from the network id (a hash into 1..65000, probing past a
zone taken by another network on the host, networks in id order), so they need no state and
an agent restart computes the same ones. A bridge that carries no filtered port's traffic
(a network without a filtered port on this host, an unfiltered port's qbr) is not tracked at
all: nothing reads its state (``untracked_devices``).

Removal. When a port's rules lose one, its established connections would go on through the
``ct state established`` accept. Neutron deletes the entries that rule matched; here they are
marked cut (``state_marks.CUT``; the entries the filter lists, in the port's zone, by address,
protocol and port, ``dataplane/conntrack.py``), and the state chain calls a cut connection
invalid, so both directions drop at their next packet. A deletion raced: the other end's next
packet (a delayed ACK) started an entry the other way, which its own rules allowed, and the
connection went on as that entry's replies. A remote group's lost member does the same
(``members.py``).
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable, Sequence

from neutrino.agent.firewall import rules
from neutrino.contract import protocols
from neutrino.contract.desired import BoundPort, SecurityRule
from neutrino.dataplane.naming import QBR, device

MAX_ZONE = 65000
BRIDGE_PREFIX = "brq"
CT_PROTOCOLS = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmpv6", 132: "sctp"}


def zones(network_ids: Iterable[str]) -> dict[str, int]:
    """network id -> conntrack zone, distinct on this host, stable for a network."""
    out: dict[str, int] = {}
    taken: set[int] = set()
    for network_id in sorted(set(network_ids)):
        zone = 1 + int(hashlib.sha256(network_id.encode()).hexdigest()[:8], 16) % MAX_ZONE
        while zone in taken:
            zone = zone % MAX_ZONE + 1
        out[network_id] = zone
        taken.add(zone)
    return out


ZONE = "ct zone set iifname map @zones accept"
"""A tracked bridge's packet gets its zone and ends the raw chain: one lookup, as before the
untracked set existed. Any other packet misses the map and goes on to ``UNTRACKED``."""
UNTRACKED = "iifname @untracked notrack"
"""After the zone: a bridge of ``untracked_devices`` is not tracked (the state-mark chain then
finds no state and sets no bit); the rest (the host's own traffic) is tracked in zone 0."""


def untracked_devices(ports: Sequence[BoundPort]) -> list[str]:
    """Bridges that carry no filtered port's traffic, left untracked (NOTRACK at raw priority):
    the ``brq`` of a network none of whose ports on this host is filtered, and the ``qbr`` of
    each unfiltered port. Every packet of a filtered port crosses its own ``qbr`` or its
    network's ``brq`` in both directions, so its state is still complete; what goes is a
    conntrack pass per packet and bridge for traffic no rule reads (docs/dataplane.md,
    "Throughput")."""
    filtered_nets = {p.network_id for p in ports if rules.filtered(p)}
    out = {device(BRIDGE_PREFIX, p.network_id) for p in ports if p.network_id not in filtered_nets}
    out.update(device(QBR, p.port_id) for p in ports if not rules.filtered(p))
    return sorted(out)


def zone_devices(ports: Sequence[BoundPort]) -> dict[str, int]:
    """Bridge name -> zone: each network's brq and each port's qbr, those left untracked
    aside. The zones are computed over every network present, so a network keeps its zone
    when another one's ports change."""
    by_net = zones(p.network_id for p in ports)
    out = {device(BRIDGE_PREFIX, net): zone for net, zone in by_net.items()}
    out.update({device(QBR, p.port_id): by_net[p.network_id] for p in ports})
    for name in untracked_devices(ports):
        out.pop(name, None)
    return out


def _elements(items: list[str]) -> list[str]:
    if not items:
        return []
    return ["\t\telements = {", *(f"\t\t\t{item}," for item in items[:-1]), f"\t\t\t{items[-1]}", "\t\t}"]


def ct_body(ports: Sequence[BoundPort]) -> str:
    """The CT table: the untracked set, the zone map and chain, then the constant state-mark
    chain. Empty when no port of the host is filtered (a network node's DHCP and router ports):
    nothing reads a state there, so no hook is registered and its bridged packets meet no base
    chain (docs/dataplane.md, "Fewer base chains")."""
    if not any(rules.filtered(p) for p in ports):
        return ""
    devices = zone_devices(ports)
    lines = ["\tset untracked {", "\t\ttype ifname", *_elements([f'"{dev}"' for dev in untracked_devices(ports)]), "\t}"]
    lines += ["\tmap zones {", "\t\ttypeof iifname : ct zone"]
    lines += _elements([f'"{dev}" : {zone}' for dev, zone in sorted(devices.items())])
    lines += [
        "\t}",
        "\tchain zone {",
        "\t\ttype filter hook prerouting priority -300; policy accept;",
        f"\t\t{rules.TUNNEL_IN}",
        f"\t\t{ZONE}",
        f"\t\t{UNTRACKED}",
        "\t}",
    ]
    return "\n".join(lines) + "\n" + rules.CT_BODY


def _filters(port: BoundPort, rule: SecurityRule, zone: int) -> list[list[str]]:
    version = 6 if rule.ethertype == "IPv6" else 4
    own = [f.ip_address for f in port.fixed_ips if ipaddress.ip_address(f.ip_address).version == version]
    out = []
    for ip in own:
        argv = ["-w", str(zone), "-f", "ipv6" if version == 6 else "ipv4"]
        argv += ["-d", ip] if rule.direction == "ingress" else ["-s", ip]
        remote = rule.remote_ip_prefixes[0] if len(rule.remote_ip_prefixes) == 1 else None
        if remote and remote.endswith(("/32", "/128")):
            argv += ["-s", remote.split("/")[0]] if rule.direction == "ingress" else ["-d", remote.split("/")[0]]
        out.append(argv + protocol_filter(rule))
    return out


def protocol_filter(rule: SecurityRule) -> list[str]:
    """The ``conntrack`` filter arguments for a rule's protocol, and its port when it names one."""
    number = protocols.number(protocols.canonical_for(rule.protocol, rule.ethertype))
    name = CT_PROTOCOLS.get(number or 0)
    if not name:
        return []
    single = rule.port_range_min is not None and rule.port_range_min == rule.port_range_max
    return ["-p", name] + (["--dport", str(rule.port_range_min)] if number in (6, 17, 132) and single else [])


def removed_rule_filters(before: Sequence[BoundPort], after: Sequence[BoundPort]) -> list[list[str]]:
    """``conntrack`` filters for the rules each still-filtered port lost since ``before``."""
    old = {p.port_id: p for p in before}
    by_net = zones(p.network_id for p in after)
    out: list[list[str]] = []
    for port in sorted(after, key=lambda p: p.port_id):
        prev = old.get(port.port_id)
        if prev is None or not rules.filtered(port) or not rules.filtered(prev):
            continue
        gone = [r for r in prev.rules if r not in set(port.rules)]
        for rule in gone:
            for argv in _filters(port, rule, by_net[port.network_id]):
                if argv not in out:
                    out.append(argv)
    return out
