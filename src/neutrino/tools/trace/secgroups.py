"""Which security group rule lets one packet through a port, or the fact that none does.

The same reading of a rule as the firewall's (``agent/firewall/rules.py``): a rule matches when
its direction and ethertype are the packet's, its protocol is none or the packet's (by name or
number), its port range holds the destination port (for ICMP, ``port_range_min`` is the type and
``port_range_max`` the code: an echo request is type 8 code 0), and its remote is none, a prefix
holding the far address, or a group whose members include it. Only the first packet of a
connection is judged: conntrack lets the replies back (docs/neutron-behaviour.md, "Trace").
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from neutrino.contract.desired import BoundPort, RemoteGroup, SecurityRule

PROTOCOL_NUMBERS = {"icmp": 1, "tcp": 6, "udp": 17, "ipv6-icmp": 58, "icmpv6": 58}
ECHO_REQUEST = (8, 0)


@dataclass(frozen=True)
class Packet:
    protocol: str  # tcp | udp | icmp
    src_ip: str
    dst_ip: str
    dst_port: int | None = None
    src_mac: str | None = None

    @property
    def ethertype(self) -> str:
        return "IPv6" if ipaddress.ip_address(self.src_ip).version == 6 else "IPv4"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    rule: str
    """The rule that allowed the packet, in words; or why nothing did."""


def _protocol_matches(rule: SecurityRule, packet: Packet) -> bool:
    if rule.protocol in (None, "", "any"):
        return True
    want = PROTOCOL_NUMBERS.get(packet.protocol)
    got = PROTOCOL_NUMBERS.get(rule.protocol.lower()) if not rule.protocol.isdigit() else int(rule.protocol)
    return got == want


def _ports_match(rule: SecurityRule, packet: Packet) -> bool:
    if packet.protocol == "icmp":
        kind, code = ECHO_REQUEST
        return (rule.port_range_min is None or rule.port_range_min == kind) and (
            rule.port_range_max is None or rule.port_range_max == code)  # fmt: skip
    if rule.port_range_min is None or rule.protocol in (None, "", "any"):
        return True
    high = rule.port_range_max if rule.port_range_max is not None else rule.port_range_min
    return packet.dst_port is not None and rule.port_range_min <= packet.dst_port <= high


def _in(address: str, prefixes: tuple[str, ...]) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ip in ipaddress.ip_network(p, strict=False) for p in prefixes)


def _remote_matches(rule: SecurityRule, far: str, groups: dict[str, RemoteGroup]) -> bool:
    if rule.remote_group_id:
        group = groups.get(rule.remote_group_id)
        members = (group.ipv4 + group.ipv6) if group else ()
        return _in(far, members)
    if rule.remote_ip_prefixes:
        return _in(far, rule.remote_ip_prefixes)
    return True


def describe(rule: SecurityRule, group_names: dict[str, str]) -> str:
    """``ingress tcp 22 from 0.0.0.0/0 (group ssh)``: a rule as an operator reads it."""
    proto = rule.protocol or "any protocol"
    ports = ""
    if rule.port_range_min is not None:
        lo, hi = rule.port_range_min, rule.port_range_max
        ports = f" type {lo}" if proto == "icmp" else (f" {lo}" if hi in (None, lo) else f" {lo}-{hi}")
    if rule.remote_group_id:
        remote = f"members of group {group_names.get(rule.remote_group_id, rule.remote_group_id[:8])}"
    else:
        remote = ", ".join(rule.remote_ip_prefixes) or "anywhere"
    way = "from" if rule.direction == "ingress" else "to"
    name = group_names.get(rule.security_group_id, rule.security_group_id[:8])
    return f"{rule.direction} {rule.ethertype} {proto}{ports} {way} {remote} (group {name})"


def decide(port: BoundPort, direction: str, packet: Packet, groups: tuple[RemoteGroup, ...],
           group_names: dict[str, str]) -> Decision:  # fmt: skip
    """Whether ``port``'s security groups let ``packet`` leave (egress) or enter (ingress) it."""
    if not port.port_security_enabled:
        return Decision(True, "port security is disabled on this port: no security group applies")
    if not port.security_groups:
        return Decision(False, f"the port is in no security group: every {direction} packet is dropped")
    far = packet.dst_ip if direction == "egress" else packet.src_ip
    by_id = {g.group_id: g for g in groups}
    for rule in port.rules:
        if (rule.direction == direction and rule.ethertype == packet.ethertype and _protocol_matches(rule, packet)
                and _ports_match(rule, packet) and _remote_matches(rule, far, by_id)):  # fmt: skip
            return Decision(True, describe(rule, group_names))
    names = ", ".join(group_names.get(g, g[:8]) for g in port.security_groups)
    what = packet.protocol + (f" port {packet.dst_port}" if packet.dst_port is not None else "")
    side = "to" if direction == "egress" else "from"
    return Decision(False, f"no {direction} rule of group(s) {names} allows {what} {side} {far}")


def spoofed(port: BoundPort, packet: Packet) -> str | None:
    """Why the port's anti-spoofing drops a packet it sends, or None: the source must be one of
    its fixed IPs (with its MAC) or an allowed address pair."""
    if not port.port_security_enabled:
        return None
    mac = (packet.src_mac or port.mac_address).lower()
    own = [f.ip_address for f in port.fixed_ips]
    if mac == port.mac_address.lower() and packet.src_ip in own:
        return None
    for addr, pair_mac in port.allowed_address_pairs:
        if (pair_mac or port.mac_address).lower() == mac and _in(packet.src_ip, (addr,)):
            return None
    return (f"{packet.src_ip} ({mac}) is not an address of the port "
            f"({', '.join(own) or 'none'} at {port.mac_address}) nor an allowed address pair")  # fmt: skip
