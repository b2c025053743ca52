"""Which OVS conntrack entries a rule change no longer allows (pure): the native OVS firewall's
removed rule must cut the connections it carried, as Neutron's driver does.

The firewall accepts established packets without looking at the rules again
(``ovs_firewall_flows``), so a deleted rule would leave its connections running. When a zone's
rule flows lose one, the agent reads the zone's entries (``ovs-appctl dpctl/dump-conntrack
zone=N``), and each entry whose original direction a filtered port of the zone would no longer
accept (egress for the port that opened it, ingress for the port it reached) is deleted by its
origin tuple (``dpctl/flush-conntrack``). Entries still allowed stay: a flush of the whole zone
would break them, since the userspace conntrack does not pick a TCP connection up mid-stream.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from neutrino.agent.firewall.rules import filtered
from neutrino.agent.l2.ovs_firewall_flows import L4, FwPort
from neutrino.contract import protocols
from neutrino.contract.desired import BoundPort, RemoteGroup, SecurityRule

NAMES = {**protocols.IP_PROTOCOL_MAP, "icmp6": 58}
"""Protocol names as ``dpctl/dump-conntrack`` prints them: neutron-lib's, and ``icmp6``."""
_ORIG = re.compile(r"^(?P<proto>[a-z0-9]+),orig=\((?P<orig>[^)]*)\)")


@dataclass(frozen=True)
class CtEntry:
    proto: int
    src: str
    dst: str
    sport: int | None = None
    dport: int | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None
    icmp_id: int | None = None

    def tuple_spec(self) -> str:
        """The origin tuple as ``dpctl/flush-conntrack`` takes it."""
        six = ipaddress.ip_address(self.src).version == 6
        fam = "ct_ipv6" if six else "ct_nw"
        out = [f"{fam}_src={self.src}", f"{fam}_dst={self.dst}", f"ct_nw_proto={self.proto}"]
        if self.sport is not None and self.dport is not None:
            out += [f"ct_tp_src={self.sport}", f"ct_tp_dst={self.dport}"]
        elif self.icmp_type is not None:
            out += [f"icmp_id={self.icmp_id or 0}", f"icmp_type={self.icmp_type}", f"icmp_code={self.icmp_code or 0}"]
        return ",".join(out)


def parse(text: str) -> list[CtEntry]:
    """``dpctl/dump-conntrack`` lines -> their origin tuples (lines of other shapes are skipped)."""
    out = []
    for line in text.splitlines():
        found = _ORIG.match(line.strip())
        if not found:
            continue
        proto = found["proto"]
        fields = dict(kv.split("=", 1) for kv in found["orig"].split(",") if "=" in kv)
        number = NAMES.get(proto, NAMES.get(proto.removesuffix("6")))
        if number is None and proto.isdigit():
            number = int(proto)
        if number is None or "src" not in fields or "dst" not in fields:
            continue
        ints = {k: int(v) for k, v in fields.items() if k in ("sport", "dport", "type", "code", "id") and v.isdigit()}
        out.append(CtEntry(number, fields["src"], fields["dst"], ints.get("sport"), ints.get("dport"), ints.get("type"),
                           ints.get("code"), ints.get("id")))  # fmt: skip
    return out


def _owns(port: BoundPort, ip: str) -> bool:
    addr = ipaddress.ip_address(ip)
    for given in [f.ip_address for f in port.fixed_ips] + [p for p, _mac in port.allowed_address_pairs]:
        net = ipaddress.ip_network(given, strict=False)
        if net.version == addr.version and addr in net:
            return True
    return False


def _in(ip: str, prefixes: Iterable[str]) -> bool:
    addr = ipaddress.ip_address(ip)
    for prefix in prefixes:
        net = ipaddress.ip_network(prefix, strict=False)
        if net.version == addr.version and addr in net:
            return True
    return False


def rule_allows(rule: SecurityRule, entry: CtEntry, remote: str, members: dict[str, RemoteGroup]) -> bool:
    version = ipaddress.ip_address(remote).version
    if (6 if rule.ethertype == "IPv6" else 4) != version:
        return False
    number = protocols.number(protocols.canonical_for(rule.protocol, rule.ethertype))
    if number and number != entry.proto:
        return False
    if rule.remote_ip_prefixes:
        if not _in(remote, rule.remote_ip_prefixes):
            return False
    elif rule.remote_set_id:
        group = members.get(rule.remote_set_id)
        if group is None or not _in(remote, group.ipv4 if version == 4 else group.ipv6):
            return False
    if number in L4 and rule.port_range_min is not None:
        high = rule.port_range_max if rule.port_range_max is not None else rule.port_range_min
        return entry.dport is not None and rule.port_range_min <= entry.dport <= high
    if number in (protocols.ICMP, protocols.IPV6_ICMP) and rule.port_range_min is not None:
        return entry.icmp_type == rule.port_range_min and rule.port_range_max in (None, entry.icmp_code)
    return True


def allowed(port: BoundPort, direction: str, entry: CtEntry, members: dict[str, RemoteGroup]) -> bool:
    remote = entry.dst if direction == "egress" else entry.src
    return any(r.direction == direction and rule_allows(r, entry, remote, members) for r in port.rules)


def to_flush(entries: Sequence[CtEntry], ports: Sequence[FwPort], remote_groups: Iterable[RemoteGroup] = ()) -> list[CtEntry]:
    """The entries of one zone that its filtered ``ports`` no longer accept."""
    members = {g.group_id: g for g in remote_groups}
    out = []
    for entry in entries:
        for fw in ports:
            if not filtered(fw.port):
                continue
            if (_owns(fw.port, entry.src) and not allowed(fw.port, "egress", entry, members)) or (
                _owns(fw.port, entry.dst) and not allowed(fw.port, "ingress", entry, members)
            ):
                out.append(entry)
                break
    return out


def rule_signature(ports: Sequence[FwPort], remote_groups: Iterable[RemoteGroup]) -> dict[int, frozenset[str]]:
    """zone -> what its filtered ports' rules allow, as strings: a zone whose set lost one needs a
    flush. A remote-group rule counts once with the group's name, the group's (merged) member
    addresses once per zone: a rule or a member gone is a string gone, and a group of N ports and
    M members costs N+M strings, not N*M (as the flows, ``ovs_firewall_flows``)."""
    from neutrino.agent.l2 import ovs_firewall_flows as fwf

    members = {g.group_id: g for g in remote_groups}
    out: dict[int, set[str]] = {}
    for fw in ports:
        if filtered(fw.port):
            mine = out.setdefault(fw.zone, set())
            for direction in ("egress", "ingress"):
                mine.update(f"{fw.port.port_id} {direction} {m}" for m in fwf.rule_matches(fw.port, direction, members, plain=True))
            for rule in fw.port.rules:
                if fwf.conjunctive(rule, members):
                    group, version = rule.remote_set_id, 6 if rule.ethertype == "IPv6" else 4
                    addresses = fwf.group_members(rule, members) or []
                    mine.update(f"{fw.port.port_id} {rule.direction} {m} from {group}" for m in fwf.rule_service(rule) if addresses)
                    mine.update(f"{group} v{version} {m}" for m in addresses)
    return {zone: frozenset(v) for zone, v in out.items()}
