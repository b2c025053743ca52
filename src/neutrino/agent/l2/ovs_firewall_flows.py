"""Security groups as OpenFlow on br-int with OVS conntrack (``firewall_driver = openvswitch``): pure.

Neutron's native OVS firewall, in its tables (docs/neutron-behaviour.md, "The native OVS
firewall"): the ports' taps sit straight on br-int (no hybrid plug), and every packet to or from
a filtered port passes these tables, stateful through ``ct()`` in one conntrack zone per network
(the network's local VLAN, carried in ``reg6``), so that two projects' overlapping addresses on
one host never share a connection entry.

* table 0 (prio 100): a local VIF's packets get the zone in ``reg6`` and go to 71 (a filtered
  port) or 73 (a port without port security, or a network port: DHCP, router). The register is
  written ``load:N->NXM_NX_REG6[]``, as OVS prints it back, so that the audit compares like with like.
* 71 BASE_EGRESS, per filtered port (``in_port``): ARP only from its (MAC, IPv4) pairs; DHCP
  discover; ICMPv6 neighbour discovery from its (MAC, IPv6) pairs; DHCP and RA *server* packets
  dropped; IP from its (MAC, address) pairs into conntrack, then 72; everything else dropped
  (anti-spoofing: fixed IPs with the port's MAC, allowed address pairs with theirs).
* 72 RULES_EGRESS: invalid packets and marked connections (``ct_mark=0x1``) dropped; replies
  and related packets accepted; a packet of the original direction (new, or established) that a
  rule allows goes to 91; an established one no rule allows any more marks its connection and is
  dropped; the rest dropped. 91 commits a new connection; accepted packets go to 73.
* 73 ACCEPT_OR_INGRESS: a packet for a filtered port on this host and network (``reg6``, MAC)
  goes to its ingress tables; the rest to 60 (NORMAL).
* 60 (prio 100): a packet arriving on a network's local VLAN (from a physnet or tunnel patch)
  for a filtered port loses the tag, gets ``reg6`` and goes to 81.
* 81 BASE_INGRESS, per filtered port (``reg6``, MAC): ARP and neighbour discovery pass; DHCP
  replies only from the network's DHCP ports; IP into conntrack, then 82; non-IP passes.
* 82 RULES_INGRESS: as 72, the allowed packets to 92, which commits a new connection and
  outputs to the port's tap.

Established connections are judged again by the rules, packet by packet in their original
direction (as Neutron's driver): when a rule goes (or a remote group's member), the next packet
of a connection it allowed finds no rule, and a flow at priority 50 sets the entry's ``ct_mark``
to 1, after which every packet of it, both ways, is dropped at priority 100. So a removed rule
cuts its connections with no conntrack flush. A flush would race: the entry gone, the other
end's next packet (a delayed ACK) is taken up mid-stream by the userspace conntrack as a new
connection in the reverse direction, which its own egress rules allow, and the first end's
packets are then replies (docs/dataplane.md, "The native OVS firewall"). A marked entry stays
until conntrack times it out; a rule added again later does not revive it (new connections pass).

Broadcast and multicast are switched by NORMAL, not filtered on ingress (as Neutron's driver,
which filters unicast ingress per port). A port range becomes the fewest value/mask matches that
cover it. A rule with a remote IP prefix, or none, is plain flows at priority 70 (one per merged
prefix and port mask).

A rule with a remote group (a security group's member addresses, or an address group's CIDRs) is
an OpenFlow conjunction (``ovs_firewall_conjunctions``: its clauses, shared member flows and
ids), one per (table, port, group, family): ``_conjoin`` gathers the port's side (clause 1: the
port's match, the original-direction state, the protocol, one flow per port mask; every rule of
the port naming the group adds to it) and the group's merged member addresses (clause 2); the
``conj_id`` flow carries the action a plain rule flow has (to 91 or 92). A group with a single
member address is a conjunction too, so a group growing or shrinking never switches between
the two forms; a group without a member of the family is no flow at all, and an address group
covering every address (``0.0.0.0/0``) is plain flows, as a rule without remote.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from neutrino.agent.firewall import merge as address_merge
from neutrino.agent.firewall.rules import filtered, link_local
from neutrino.agent.l2.ovs_firewall_conjunctions import Conjunction, conjunction_flows
from neutrino.contract import protocols
from neutrino.contract.desired import BoundPort, RemoteGroup, SecurityRule
from neutrino.dataplane.openflow import Flow

LOCAL_SWITCHING, TRANSIENT_TABLE = 0, 60
BASE_EGRESS, RULES_EGRESS, ACCEPT_OR_INGRESS = 71, 72, 73
BASE_INGRESS, RULES_INGRESS = 81, 82
ACCEPTED_EGRESS, ACCEPTED_INGRESS = 91, 92
ZONE = "NXM_NX_REG6[0..15]"
"""Where a packet's conntrack zone travels: the network's local VLAN."""
INVALID = "ct_state=+inv+trk"
MARKED = "ct_state=+trk,ct_mark=0x1"
"""A connection an established packet found no rule for (``MARK_CUT``): dropped both ways."""
REPLY = "ct_state=-new+est-rel+rpl-inv+trk"
RELATED = "ct_state=-new+rel-inv+trk"
ORIGINAL = "ct_state=-rpl-inv+trk"
"""What the rule flows judge: a new connection's packets and an established one's in its original direction."""
ORIGINAL_ESTABLISHED = "ct_state=+est-rel-rpl-inv+trk"
NEW = "ct_state=+new+trk"
FAMILIES = ("ip", "ipv6")
MARK_CUT = f"ct(commit,zone={ZONE},exec(load:0x1->NXM_NX_CT_MARK[]))"
"""Mark the connection cut (``MARKED``); the packet is dropped (no output)."""
RULE_PRIORITY = 70
ND_EGRESS = (130, 131, 132, 133, 135, 136, 143)
"""ICMPv6 a port may send from its own (MAC, address): MLD, router and neighbour solicitation/advertisement."""
ND_INGRESS = (130, 131, 132, 135, 136, 143)
ROUTER_ADVERT = 134
L4 = {6: "tcp", 17: "udp", 132: "sctp"}
"""Protocols whose destination port OVS matches (``tp_dst``), by their match keyword (IPv4; +6: IPv6)."""


@dataclass(frozen=True)
class FwPort:
    """A wired VIF on br-int: its OVS port name (the tap), the network's local VLAN (the
    conntrack zone) and the port as the server projects it."""

    name: str
    zone: int
    port: BoundPort


def flows(ports: Iterable[FwPort], remote_groups: Iterable[RemoteGroup] = ()) -> list[Flow]:
    """br-int's firewall flows for these ports (sorted, each once); none when no port is filtered."""
    ports = sorted(ports, key=lambda p: p.port.port_id)
    if not any(filtered(p.port) for p in ports):
        return []
    members = {g.group_id: g for g in remote_groups}
    out: set[Flow] = {
        Flow(BASE_EGRESS, 0, "", "drop"), Flow(RULES_EGRESS, 0, "", "drop"),
        Flow(ACCEPT_OR_INGRESS, 0, "", f"resubmit(,{TRANSIENT_TABLE})"),
        Flow(BASE_INGRESS, 0, "", "drop"), Flow(RULES_INGRESS, 0, "", "drop"),
        Flow(RULES_EGRESS, 100, INVALID, "drop"), Flow(RULES_INGRESS, 100, INVALID, "drop"),
        Flow(RULES_EGRESS, 100, MARKED, "drop"), Flow(RULES_INGRESS, 100, MARKED, "drop"),
        Flow(RULES_EGRESS, 90, REPLY, f"resubmit(,{ACCEPT_OR_INGRESS})"),
        Flow(RULES_EGRESS, 90, RELATED, f"resubmit(,{ACCEPT_OR_INGRESS})"),
        # after the port's own checks in 71: DHCP renewals from its address, any other ICMPv6
        Flow(RULES_EGRESS, 95, "udp,tp_src=68,tp_dst=67", f"resubmit(,{ACCEPT_OR_INGRESS})"),
        Flow(RULES_EGRESS, 95, "udp6,tp_src=546,tp_dst=547", f"resubmit(,{ACCEPT_OR_INGRESS})"),
        Flow(RULES_EGRESS, 80, "icmp6", f"resubmit(,{ACCEPT_OR_INGRESS})"),
        Flow(ACCEPTED_EGRESS, 0, "", f"resubmit(,{ACCEPT_OR_INGRESS})"),
        Flow(ACCEPTED_INGRESS, 0, "", "drop"),
    }  # fmt: skip
    for fam in FAMILIES:  # ct() needs the packet's family in the match
        out.add(Flow(RULES_EGRESS, 50, f"{ORIGINAL_ESTABLISHED},{fam}", MARK_CUT))
        out.add(Flow(RULES_INGRESS, 50, f"{ORIGINAL_ESTABLISHED},{fam}", MARK_CUT))
        out.add(Flow(ACCEPTED_EGRESS, 100, f"{NEW},{fam}", f"ct(commit,zone={ZONE}),resubmit(,{ACCEPT_OR_INGRESS})"))
    conjunctions: dict[tuple[int, str], Conjunction] = {}
    for fw in ports:
        first = BASE_EGRESS if filtered(fw.port) else ACCEPT_OR_INGRESS
        out.add(Flow(LOCAL_SWITCHING, 100, f"in_port={fw.name}", f"load:{fw.zone}->NXM_NX_REG6[],resubmit(,{first})"))
        if not filtered(fw.port):
            continue
        out.update(egress_base(fw))
        out.update(egress_rules(fw, members, conjunctions))
        for mac in port_macs(fw.port):
            dest = f"reg6={fw.zone},dl_dst={mac}"
            out.add(Flow(ACCEPT_OR_INGRESS, 100, dest, f"resubmit(,{BASE_INGRESS})"))
            out.add(Flow(TRANSIENT_TABLE, 100, f"dl_vlan={fw.zone},dl_dst={mac}",
                         f"pop_vlan,load:{fw.zone}->NXM_NX_REG6[],resubmit(,{BASE_INGRESS})"))  # fmt: skip
            out.update(ingress_base(fw, dest))
            out.update(ingress_rules(fw, dest, members, conjunctions))
    out.update(conjunction_flows(conjunctions.values()))
    return sorted(out)


def port_macs(port: BoundPort) -> list[str]:
    own = port.mac_address.lower()
    return list(dict.fromkeys([own, *((mac or own).lower() for _ip, mac in port.allowed_address_pairs)]))


def sources(port: BoundPort) -> dict[str, tuple[list[str] | None, list[str] | None]]:
    """MAC -> (IPv4, IPv6) sources it may use: fixed IPs with the port's MAC, allowed address
    pairs with theirs, the MAC's link-local beside any IPv6; ``None``: any address (a /0 pair,
    or a port without fixed IPs: the MAC alone is checked, as Neutron)."""
    own = port.mac_address.lower()
    given: dict[str, list[str]] = {own: [f.ip_address for f in port.fixed_ips]}
    for ip, mac in port.allowed_address_pairs:
        given.setdefault((mac or own).lower(), []).append(ip)
    out = {}
    for mac, ips in given.items():
        if not port.fixed_ips and mac == own and not ips:
            out[mac] = (None, None)
            continue
        v4 = address_merge.merged(tuple(ips), 4)
        v6_given = [ip for ip in ips if ipaddress.ip_network(ip, strict=False).version == 6]
        v6 = address_merge.merged((*v6_given, link_local(mac)), 6)
        out[mac] = (None if v4 is None else list(v4), None if v6 is None else list(v6))
    return out


def _each(key: str, values: list[str] | None) -> list[str]:
    """``,key=value`` per value; one empty match for ``None`` (any)."""
    return [""] if values is None else [f",{key}={v}" for v in values]


def egress_base(fw: FwPort) -> Iterator[Flow]:
    at, accept, track = f"in_port={fw.name}", f"resubmit(,{ACCEPT_OR_INGRESS})", f"ct(table={RULES_EGRESS},zone={ZONE})"
    yield Flow(BASE_EGRESS, 70, f"{at},udp,tp_src=67", "drop")
    yield Flow(BASE_EGRESS, 70, f"{at},udp6,tp_src=547", "drop")
    yield Flow(BASE_EGRESS, 70, f"{at},icmp6,icmp_type={ROUTER_ADVERT}", "drop")
    for mac, (v4, v6) in sources(fw.port).items():
        src = f"{at},dl_src={mac}"
        yield Flow(BASE_EGRESS, 95, f"{src},udp,nw_src=0.0.0.0,nw_dst=255.255.255.255,tp_src=68,tp_dst=67", accept)
        if v4 != []:
            for spa in _each("arp_spa", None if v4 is None else ["0.0.0.0", *v4]):
                yield Flow(BASE_EGRESS, 95, f"{src},arp,arp_sha={mac}{spa}", accept)
            for ip in _each("nw_src", v4):
                yield Flow(BASE_EGRESS, 65, f"{src},ip{ip}", track)
        if v6 != []:
            for ip in _each("ipv6_src", None if v6 is None else ["::", *v6]):
                for kind in ND_EGRESS:
                    yield Flow(BASE_EGRESS, 95, f"{src},icmp6{ip},icmp_type={kind}", accept)
            for ip in _each("ipv6_src", v6):
                yield Flow(BASE_EGRESS, 65, f"{src},ipv6{ip}", track)


def ingress_base(fw: FwPort, dest: str) -> Iterator[Flow]:
    out = f"output:{fw.name}"
    yield Flow(BASE_INGRESS, 100, f"{dest},arp", out)
    for kind in ND_INGRESS:
        yield Flow(BASE_INGRESS, 90, f"{dest},icmp6,icmp_type={kind}", out)
    yield Flow(BASE_INGRESS, 90, f"{dest},icmp6,ipv6_src=fe80::/10,icmp_type={ROUTER_ADVERT}", out)
    if fw.port.dhcp_servers:
        for ip, mac in fw.port.dhcp_servers:
            if ":" in ip:
                yield Flow(BASE_INGRESS, 95, f"{dest},udp6,dl_src={mac},tp_src=547,tp_dst=546", out)
            else:
                yield Flow(BASE_INGRESS, 95, f"{dest},udp,dl_src={mac},nw_src={ip},tp_src=67,tp_dst=68", out)
    else:  # DHCP outside the cloud (a provider network without DHCP ports): Neutron's rule
        yield Flow(BASE_INGRESS, 95, f"{dest},udp,tp_src=67,tp_dst=68", out)
        yield Flow(BASE_INGRESS, 95, f"{dest},udp6,tp_src=547,tp_dst=546", out)
    yield Flow(BASE_INGRESS, 94, f"{dest},udp,tp_src=67,tp_dst=68", "drop")
    yield Flow(BASE_INGRESS, 94, f"{dest},udp6,tp_src=547,tp_dst=546", "drop")
    for fam in FAMILIES:
        yield Flow(BASE_INGRESS, 70, f"{dest},{fam}", f"ct(table={RULES_INGRESS},zone={ZONE})")
    yield Flow(BASE_INGRESS, 50, dest, out)


def egress_rules(fw: FwPort, members: dict[str, RemoteGroup], conjunctions: dict[tuple[int, str], Conjunction]) -> Iterator[Flow]:
    accept = f"resubmit(,{ACCEPTED_EGRESS})"
    at = f"in_port={fw.name},{ORIGINAL}"
    for match in rule_matches(fw.port, "egress", members, plain=True):
        yield Flow(RULES_EGRESS, RULE_PRIORITY, f"{at},{match}", accept)
    _conjoin(fw, "egress", [at], accept, members, conjunctions)


def ingress_rules(fw: FwPort, dest: str, members: dict[str, RemoteGroup],
                  conjunctions: dict[tuple[int, str], Conjunction]) -> Iterator[Flow]:  # fmt: skip
    out, accept = f"output:{fw.name}", f"resubmit(,{ACCEPTED_INGRESS})"
    yield Flow(RULES_INGRESS, 90, f"{dest},{REPLY}", out)
    yield Flow(RULES_INGRESS, 90, f"{dest},{RELATED}", out)
    for fam in FAMILIES:
        yield Flow(ACCEPTED_INGRESS, 100, f"{dest},{NEW},{fam}", f"ct(commit,zone={ZONE}),{out}")
    yield Flow(ACCEPTED_INGRESS, 90, dest, out)
    for match in rule_matches(fw.port, "ingress", members, plain=True):
        yield Flow(RULES_INGRESS, RULE_PRIORITY, f"{dest},{ORIGINAL},{match}", accept)
    _conjoin(fw, "ingress", [f"{dest},{ORIGINAL}"], accept, members, conjunctions)


def conjunctive(rule: SecurityRule, members: dict[str, RemoteGroup]) -> bool:
    """A rule matching a remote group's members (a conjunction), not its own prefix; an address
    group covering every address (``0.0.0.0/0``) is plain flows, as a rule without remote."""
    return not rule.remote_ip_prefixes and bool(rule.remote_set_id) and group_members(rule, members) is not None


def rule_matches(port: BoundPort, direction: str, members: dict[str, RemoteGroup], *, plain: bool = False) -> list[str]:
    """Every match of the port's rules in one direction (each once, in rule order), remote
    groups expanded member by member; ``plain``: only the rules that are not a remote group's."""
    out: dict[str, None] = {}
    for rule in port.rules:
        if rule.direction == direction and not (plain and conjunctive(rule, members)):
            out.update(dict.fromkeys(rule_match(rule, members)))
    return list(out)


def rule_match(rule: SecurityRule, members: dict[str, RemoteGroup]) -> list[str]:
    """The OpenFlow matches of one rule seen from the port (ingress: the remote is the source);
    empty when it matches nothing (a remote group without members of its ethertype)."""
    version = 6 if rule.ethertype == "IPv6" else 4
    remotes = _remotes(rule, version, members)
    if remotes == []:
        return []
    field = _remote_field(rule.direction, version)
    service = _service(rule)
    return [f"{proto}{remote}{port}" for remote in _each(field, remotes) for proto, port in service]


def group_members(rule: SecurityRule, members: dict[str, RemoteGroup]) -> list[str] | None:
    """A remote-group rule's member addresses of its family, merged (none: it matches nothing;
    None: any address)."""
    return _remotes(rule, 6 if rule.ethertype == "IPv6" else 4, members)


def _remote_field(direction: str, version: int) -> str:
    return ("ipv6_" if version == 6 else "nw_") + ("src" if direction == "ingress" else "dst")


def _service(rule: SecurityRule) -> list[tuple[str, str]]:
    """(protocol, port or ICMP match) pairs of a rule: one per port mask."""
    version = 6 if rule.ethertype == "IPv6" else 4
    number = protocols.number(protocols.canonical_for(rule.protocol, rule.ethertype))
    proto = _protocol(number, version)
    return [(proto, port) for port in _l4(number, rule.port_range_min, rule.port_range_max)]


def _conjoin(fw: FwPort, direction: str, ats: list[str], actions: str, members: dict[str, RemoteGroup],
             conjunctions: dict[tuple[int, str], Conjunction]) -> None:  # fmt: skip
    """Add the port's remote-group rules of one direction to their conjunctions (per group and
    family); ``ats``: the port's side of the match (one per MAC on ingress)."""
    table = RULES_EGRESS if direction == "egress" else RULES_INGRESS
    for rule in fw.port.rules:
        if rule.direction != direction or not conjunctive(rule, members):
            continue
        version = 6 if rule.ethertype == "IPv6" else 4
        remotes = group_members(rule, members)
        if not remotes:  # no member of the family: nothing matches
            continue
        group = rule.remote_set_id or ""
        key = f"{table} {fw.port.port_id} {group} {version}"
        family = "ipv6" if version == 6 else "ip"
        field = _remote_field(direction, version)
        conj = conjunctions.setdefault((table, key), Conjunction(
            table, key, family, actions, set(), tuple(f"{family},{field}={m}" for m in remotes)))
        conj.port.update(f"{at},{proto}{port}" for at in ats for proto, port in _service(rule))


def _remotes(rule: SecurityRule, version: int, members: dict[str, RemoteGroup]) -> list[str] | None:
    if rule.remote_ip_prefixes:
        merged = address_merge.merged(tuple(rule.remote_ip_prefixes), version)
    elif rule.remote_set_id:
        group = members.get(rule.remote_set_id)
        addrs = () if group is None else (group.ipv4 if version == 4 else group.ipv6)
        merged = address_merge.merged(tuple(addrs), version) if addrs else ()
    else:
        return None
    return None if merged is None else list(merged)


def _protocol(number: int | None, version: int) -> str:
    six = "6" if version == 6 else ""
    if not number:  # None and 0 (hopopt, as Neutron): any protocol
        return "ipv6" if version == 6 else "ip"
    if number in L4:
        return L4[number] + six
    if number in (protocols.ICMP, protocols.IPV6_ICMP):
        return "icmp6" if version == 6 else "icmp"
    return f"{'ipv6' if version == 6 else 'ip'},nw_proto={number}"


def _l4(number: int | None, low: int | None, high: int | None) -> list[str]:
    if number in (protocols.ICMP, protocols.IPV6_ICMP):
        if low is None:
            return [""]
        return [f",icmp_type={low}" + (f",icmp_code={high}" if high is not None else "")]
    if number not in L4 or low is None:
        return [""]
    return [f",tp_dst={m}" for m in port_masks(low, high if high is not None else low)]


def port_masks(low: int, high: int) -> list[str]:
    """The fewest ``value/mask`` (or exact ``value``) matches covering ports ``low``..``high``."""
    out: list[str] = []
    while low <= high:
        size = low & -low if low else 1 << 16
        while size > high - low + 1:
            size >>= 1
        out.append(str(low) if size == 1 else f"{low:#x}/{0xFFFF ^ (size - 1):#x}")
        low += size
    return out
