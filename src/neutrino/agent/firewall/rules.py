"""The hybrid firewall as nftables text: pure, one ``bridge`` table for every port of a host.

Why this shape (measured on kernel 6.18, nft 1.0.6): only the ``bridge`` family sees which
bridge port a frame enters or leaves (``iifname``/``oifname`` are tap/qvb there, while the inet
hooks reached through br_netfilter only see the qbr), and only the bridge family can filter ARP
in transit. But ``ct`` is refused in the bridge family here ("Protocol error": no
nf_conntrack_bridge). So connection tracking comes from br_netfilter: with
``bridge-nf-call-ip(6)tables=1`` bridged IP runs through the inet hooks (conntrack at
prerouting, in the bridge's zone), and in the inet forward hook the table ``CT_TABLE`` (family
``CT_FAMILY``, body ``CT_BODY``) writes the conntrack state into two bits of the packet mark;
the bridge table's forward chain, at a priority after br_netfilter's, reads them. Everything
that depends on ports lives in the one bridge table, replaced atomically. Without br_netfilter
every packet looks new and replies are dropped: the firewall fails closed (see ``sysctls``).
Frames a port sends to the host itself (the bridge ``input`` hook, before any inet hook) are
judged without state: only the port's rules and anti-spoofing apply (the host opens no
connection to an instance through these bridges). A host without a filtered port gets empty
tables: no base chain at all in its packets' way (docs/dataplane.md, "Fewer base chains").

Semantics follow Neutron's hybrid iptables driver: per port a chain ``i<id10>`` (frames leaving
the qbr through the tap, to the VM), ``o<id10>`` (frames entering from the tap) and ``s<id10>``
(anti-spoofing), reached through the verdict maps ``to_vm`` / ``from_vm`` keyed by tap name. A
port without port security is mapped to ``accept``; bridges and ports not listed are not touched.
DHCP replies reach a port only from its network's DHCP ports (``BoundPort.dhcp_servers``, each
from its own MAC and address), stricter than Neutron's provider rule (docs/neutron-behaviour.md,
"Several DHCP agents per network").
802.1Q-tagged frames (a trunk's subports, docs/dataplane.md "Trunks") pass unfiltered, as with
Neutron's hybrid iptables driver, where br_netfilter does not hand tagged frames to iptables.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence

from neutrino.agent.firewall import merge as address_merge
from neutrino.agent.firewall.state_marks import (  # noqa: F401 (the CT table's names, used here and re-exported)
    BRIDGE_FORWARD_PRIORITY, CT_BODY, CT_BRIDGES, CT_ESTABLISHED, CT_FAMILY, CT_INVALID, CT_MASK, CT_TABLE, KEEP,
    STATE, TCP_ESTABLISHED, TUNNEL_IN, TUNNEL_UDP_PORT,
)  # fmt: skip
from neutrino.dataplane.naming import TAP, hybrid_devices
from neutrino.dataplane.nftables import replace_script
from neutrino.contract.desired import BoundPort, RemoteGroup, SecurityRule
from neutrino.contract import protocols

FAMILY = "bridge"
TABLE = "neutrino-fw"
TRUSTED_OWNER_PREFIX = "network:"
CHAIN_ID_CHARS = 10  # as Neutron: i/o/s + the first 10 characters of the port id
_CHAIN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{%d}" % (CHAIN_ID_CHARS - 1))

NOT_IP = "meta protocol != { ip, ip6 } accept"
DHCP_REPLY_DROP = [
    "meta protocol ip udp sport 67 udp dport 68 drop",
    "meta protocol ip6 udp sport 547 udp dport 546 drop",
]
"""After the replies of the network's own DHCP ports (``dhcp_reply_lines``): any other DHCP
reply is dropped, whatever the security groups allow and whatever conntrack says."""
TO_VM_FIXED = [
    "meta protocol ip6 icmpv6 type { mld-listener-query, nd-neighbor-solicit, nd-neighbor-advert } accept",
    "meta protocol ip6 ip6 saddr fe80::/10 icmpv6 type nd-router-advert accept",
]
FROM_VM_FIXED = [
    "meta protocol arp accept",
    "meta protocol ip udp sport 68 udp dport 67 accept",
    "meta protocol ip udp sport 67 drop",
    "meta protocol ip6 udp sport 546 udp dport 547 accept",
    "meta protocol ip6 udp sport 547 drop",
    "meta protocol ip6 icmpv6 type nd-router-advert drop",
    "meta protocol ip6 meta l4proto ipv6-icmp accept",
]
UNSPEC_ICMPV6 = "{ mld-listener-report, nd-neighbor-solicit, mld2-listener-report }"
L4_NAMES = {6: "tcp", 17: "udp", protocols.ICMP: "icmp", protocols.IPV6_ICMP: "ipv6-icmp"}


# --- small pure helpers -------------------------------------------------------------------------


def chain_names(port_id: str) -> dict[str, str]:
    """``{"ingress": "i<id10>", "egress": "o<id10>", "spoof": "s<id10>"}``."""
    short = port_id[:CHAIN_ID_CHARS]
    if not _CHAIN_ID.fullmatch(short):
        raise ValueError(f"port id {port_id!r} cannot name firewall chains (10+ of [A-Za-z0-9_-] needed)")
    return {"ingress": f"i{short}", "egress": f"o{short}", "spoof": f"s{short}"}


def link_local(mac: str) -> str:
    """The EUI-64 IPv6 link-local address of ``mac`` (a port may always send from it)."""
    raw = bytes.fromhex(mac.replace(":", "").replace("-", ""))
    eui = bytes([raw[0] ^ 0x02]) + raw[1:3] + b"\xff\xfe" + raw[3:]
    return str(ipaddress.IPv6Address(b"\xfe\x80" + bytes(6) + eui))


def collapse(prefixes: Iterable[str], version: int) -> list[str] | None:
    """The prefixes of one IP version, merged (nft refuses overlapping set elements), host
    routes as bare addresses; ``None`` when one of them is "any" (``/0``)."""
    merged = address_merge.merged(tuple(prefixes), version)
    return None if merged is None else list(merged)


def nft_set(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else "{ " + ", ".join(items) + " }"


# --- one security group rule ------------------------------------------------------------------


def _l4(number: int, low: int | None, high: int | None) -> str:
    name = L4_NAMES.get(number, str(number))
    if number in (protocols.ICMP, protocols.IPV6_ICMP):
        if low is None:
            return f"meta l4proto {name}"
        kw = "icmp" if number == protocols.ICMP else "icmpv6"
        return f"{kw} type {low}" + (f" {kw} code {high}" if high is not None else "")
    if low is None:
        return f"meta l4proto {name}"
    ports = str(low) if high in (None, low) else f"{low}-{high}"
    return f"{name} dport {ports}" if number in (6, 17) else f"meta l4proto {name} th dport {ports}"


Sets = Mapping[tuple[str, int], str]
"""(remote group id, IP version) -> name of the table's set of its members (only non-empty ones)."""


def set_name(group_id: str, version: int) -> str:
    return f"rg{group_id.replace('-', '')[:16]}v{version}"


def remote_sets(groups: Iterable[RemoteGroup]) -> tuple[dict[tuple[str, int], str], list[str]]:
    """The named sets of the remote groups' members (one per group and version, shared by every
    port's rules) and their table lines."""
    names: dict[tuple[str, int], str] = {}
    lines: list[str] = []
    for group in sorted(groups, key=lambda g: g.group_id):
        for version, addrs in ((4, group.ipv4), (6, group.ipv6)):
            elements = collapse(addrs, version)
            if elements == []:
                continue
            name = set_name(group.group_id, version)
            names[(group.group_id, version)] = name
            kind = "ipv4_addr" if version == 4 else "ipv6_addr"
            items = ", ".join(elements) if elements is not None else ("0.0.0.0/0" if version == 4 else "::/0")
            lines += [f"\tset {name} {{", f"\t\ttype {kind}; flags interval;", f"\t\telements = {{ {items} }}", "\t}"]
    return names, lines


def rule_match(rule: SecurityRule, sets: Sets | None = None) -> str | None:
    """The nft match of one rule, seen from the port (ingress: the remote is the source);
    ``None`` when it matches nothing (a remote group, or address group, without members of its
    ethertype)."""
    version = 6 if rule.ethertype == "IPv6" else 4
    fam = "ip6" if version == 6 else "ip"
    parts = [f"meta protocol {fam}"]
    remote_set = rule.remote_set_id
    if remote_set and not rule.remote_ip_prefixes:
        name = (sets or {}).get((remote_set, version))
        if name is None:
            return None
        parts.append(f"{fam} {'saddr' if rule.direction == 'ingress' else 'daddr'} @{name}")
    elif rule.remote_ip_prefixes:
        nets = collapse(rule.remote_ip_prefixes, version)
        if nets == []:
            return None
        if nets is not None:
            parts.append(f"{fam} {'saddr' if rule.direction == 'ingress' else 'daddr'} {nft_set(nets)}")
    elif remote_set:
        return None
    number = protocols.number(protocols.canonical_for(rule.protocol, rule.ethertype))
    if number:  # None and 0 (hopopt, as Neutron) mean any protocol
        parts.append(_l4(number, rule.port_range_min, rule.port_range_max))
    return " ".join(parts)


def rule_lines(port: BoundPort, direction: str, sets: Sets | None = None) -> list[str]:
    """The accept lines of the port's rules in one direction, duplicates (across groups) once."""
    out: list[str] = []
    for rule in port.rules:
        if rule.direction != direction:
            continue
        match = rule_match(rule, sets)
        line = f"{match} accept" if match else None
        if line and line not in out:
            out.append(line)
    return out


# --- one port ---------------------------------------------------------------------------------


def port_macs(port: BoundPort) -> list[str]:
    own = port.mac_address.lower()
    return list(dict.fromkeys([own, *((mac or own).lower() for _ip, mac in port.allowed_address_pairs)]))


def spoof_lines(port: BoundPort) -> list[str]:
    """RETURN for (MAC, source address) the port owns: fixed IPs with its MAC (plus the MAC's
    link-local when it has IPv6), allowed pairs with theirs; ARP only for those IPv4 addresses
    (and 0.0.0.0, the probe); everything else is dropped. No fixed IP: the MAC alone (Neutron)."""
    own = port.mac_address.lower()
    addrs: dict[str, list[str]] = {own: [f.ip_address for f in port.fixed_ips]}
    for ip, mac in port.allowed_address_pairs:
        addrs.setdefault((mac or own).lower(), []).append(ip)
    out = [] if port.fixed_ips else [f"ether saddr {own} return"]
    for mac, ips in addrs.items():
        v4 = collapse(ips, 4)  # None: a 0.0.0.0/0 pair, any source
        v6_given = [ip for ip in ips if ipaddress.ip_network(ip, strict=False).version == 6]
        v6 = collapse([*v6_given, link_local(mac)], 6) if v6_given else []
        if v4 != []:
            ip_src = f" ip saddr {nft_set(v4)}" if v4 else ""
            arp_src = f" arp saddr ip {nft_set(collapse(['0.0.0.0', *v4], 4) or [])}" if v4 else ""
            out.append(f"ether saddr {mac} meta protocol ip{ip_src} return")
            out.append(f"ether saddr {mac} meta protocol arp arp saddr ether {mac}{arp_src} return")
        if v6 != []:
            out.append(f"ether saddr {mac} meta protocol ip6" + (f" ip6 saddr {nft_set(v6)}" if v6 else "") + " return")
    return [*out, "drop"]


def established_from_own_lines(port: BoundPort) -> list[str]:
    """The egress chain's first rules: an established TCP packet from the port's own MAC and one
    of its fixed IPs is accepted at once. Such a packet would pass the DHCP lines (not from
    0.0.0.0 or ::) and the anti-spoofing chain (its own pair) and then meet ``TCP_ESTABLISHED``:
    same verdict, one rule instead of five and a jump (docs/dataplane.md, "Fewer base chains").
    Allowed address pairs take the longer way."""
    own = port.mac_address.lower()
    out = []
    for fam, ips in (("ip", [f.ip_address for f in port.fixed_ips if ":" not in f.ip_address]),
                     ("ip6", [f.ip_address for f in port.fixed_ips if ":" in f.ip_address])):  # fmt: skip
        if ips:
            out.append(f"{TCP_ESTABLISHED.removesuffix(' accept')} ether saddr {own} {fam} saddr {nft_set(ips)} accept")
    return out


def egress_lines(port: BoundPort, sets: Sets | None = None) -> list[str]:
    macs = nft_set(port_macs(port))
    unspec = [
        f"ether saddr {macs} meta protocol ip ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 udp dport 67 accept",
        f"ether saddr {macs} meta protocol ip6 ip6 saddr :: ip6 daddr ff02::/16 icmpv6 type {UNSPEC_ICMPV6} accept",
    ]
    spoof = f"jump {chain_names(port.port_id)['spoof']}"
    return [*established_from_own_lines(port), *unspec, spoof, TCP_ESTABLISHED, *FROM_VM_FIXED, *STATE,
            *rule_lines(port, "egress", sets), "drop"]  # fmt: skip


def dhcp_reply_lines(port: BoundPort) -> list[str]:
    """Accept DHCP replies only from the network's DHCP ports, each from its own MAC and
    address, to the port's own fixed addresses or broadcast (v4; Neutron's provider rule) and
    to them or link-local (v6, where the server answers from its link-local address). One
    line per server: a second DHCP agent of the network is a second line, and a rogue server
    on another port (port security off, or on another host) is dropped by ``DHCP_REPLY_DROP``.
    A network without DHCP ports (DHCP disabled: a provider network's own DHCP server outside
    the cloud) keeps Neutron's rule, any source to those destinations."""
    own4 = [f.ip_address for f in port.fixed_ips if ":" not in f.ip_address]
    own6 = [f.ip_address for f in port.fixed_ips if ":" in f.ip_address]
    to4, to6 = nft_set([*own4, "255.255.255.255"]), nft_set([*own6, "fe80::/64"])
    v4 = "udp sport 67 udp dport 68 accept"
    v6 = "udp sport 547 udp dport 546 accept"
    if not port.dhcp_servers:
        return [f"meta protocol ip ip daddr {to4} {v4}", f"meta protocol ip6 ip6 daddr {to6} {v6}", *DHCP_REPLY_DROP]
    out = []
    for ip, mac in port.dhcp_servers:
        if ":" in ip:
            out.append(f"ether saddr {mac} meta protocol ip6 ip6 saddr {{ fe80::/10, {ip} }} ip6 daddr {to6} {v6}")
        else:
            out.append(f"ether saddr {mac} meta protocol ip ip saddr {ip} ip daddr {to4} {v4}")
    return [*dict.fromkeys(out), *DHCP_REPLY_DROP]


def ingress_lines(port: BoundPort, sets: Sets | None = None) -> list[str]:
    return [TCP_ESTABLISHED, NOT_IP, *dhcp_reply_lines(port), *TO_VM_FIXED, *STATE, *rule_lines(port, "ingress", sets), "drop"]


def _chain(name: str, comment: str, lines: Sequence[str]) -> list[str]:
    return [f"\tchain {name} {{", f'\t\tcomment "{comment}"', *(f"\t\t{line}" for line in lines), "\t}"]


def _vmap(name: str, elements: dict[str, str]) -> list[str]:
    out = [f"\tmap {name} {{", "\t\ttype ifname : verdict"]
    if elements:
        items = [f'"{dev}" : {verdict}' for dev, verdict in sorted(elements.items())]
        out += ["\t\telements = {", *(f"\t\t\t{item}," for item in items[:-1]), f"\t\t\t{items[-1]}", "\t\t}"]
    return [*out, "\t}"]


def filtered(port: BoundPort) -> bool:
    """Whether the port's traffic is filtered: not without port security, and not for the
    network's own ports (DHCP, router: ``network:*`` owners), which Neutron trusts. On the
    hybrid plug those never pass a bridge hook; on a brq bridge their taps do."""
    return port.port_security_enabled and not port.device_owner.startswith(TRUSTED_OWNER_PREFIX)


# --- the table --------------------------------------------------------------------------------


def render(ports: Sequence[BoundPort], remote_groups: Iterable[RemoteGroup] = ()) -> str:
    """The body of table ``FAMILY TABLE`` for these ports (``Nftables.apply_table``); rules
    with a remote group match the named set of its members from ``remote_groups``. Empty when
    no port is filtered: every port would be accepted, so no base chain is needed."""
    if not any(filtered(p) for p in ports):
        return ""
    sets, set_lines = remote_sets(remote_groups)
    return with_sets(set_lines, port_text(ports, sets))


def with_sets(set_lines: Sequence[str], ports_text: str) -> str:
    """The table's body: the remote groups' sets, then ``port_text``'s part."""
    return "\n".join([*set_lines, ports_text]) + "\n"


def port_text(ports: Sequence[BoundPort], sets: Sets) -> str:
    """The part of the body after the sets (maps, base chains, each port's chains): it depends
    on the ports and on which sets exist, not on the sets' members."""
    ordered = sorted(ports, key=lambda p: p.port_id)
    to_vm: dict[str, str] = {}
    from_vm: dict[str, str] = {}
    chains: list[str] = []
    seen: set[str] = set()
    for port in ordered:
        tap = hybrid_devices(port.port_id)[TAP]
        names = chain_names(port.port_id)
        if tap in seen or names["ingress"] in seen:
            raise ValueError(f"two ports share the device or chain names of {port.port_id!r}")
        seen |= {tap, names["ingress"]}
        if not filtered(port):
            to_vm[tap] = from_vm[tap] = "accept"
            continue
        to_vm[tap], from_vm[tap] = f"jump {names['ingress']}", f"jump {names['egress']}"
        chains += _port_chains(port, frozenset(sets.items()))
    base = [
        "\tchain forward {",
        f"\t\ttype filter hook forward priority {BRIDGE_FORWARD_PRIORITY}; policy accept;",
        "\t\tether type vlan accept",
        "\t\toifname vmap @to_vm",
        "\t\tiifname vmap @from_vm",
        "\t}",
        "\tchain input {",
        "\t\ttype filter hook input priority -200; policy accept;",
        f"\t\tmeta mark set meta mark and {KEEP:#010x}",
        "\t\tiifname vmap @from_vm",
        "\t}",
    ]
    return "\n".join([*_vmap("to_vm", to_vm), *_vmap("from_vm", from_vm), *base, *chains])


@functools.lru_cache(maxsize=8192)
def _port_chains(port: BoundPort, sets: frozenset[tuple[tuple[str, int], str]]) -> tuple[str, ...]:
    """A port's three chains. Memoised: they depend only on the port and on which remote-group
    sets exist (not on the sets' members), so a pass that changes one port renders one port."""
    names = chain_names(port.port_id)
    by_key = dict(sets)
    return (
        *_chain(names["ingress"], f"port {port.port_id}: to the VM", ingress_lines(port, by_key)),
        *_chain(names["egress"], f"port {port.port_id}: from the VM", egress_lines(port, by_key)),
        *_chain(names["spoof"], f"port {port.port_id}: anti-spoofing", spoof_lines(port)),
    )


def script(ports: Sequence[BoundPort], remote_groups: Iterable[RemoteGroup] = ()) -> str:
    """One ``nft -f`` transaction replacing both tables (the constant CT table, then the ports')."""
    return replace_script(CT_FAMILY, CT_TABLE, CT_BODY) + replace_script(FAMILY, TABLE, render(ports, remote_groups))


def describe(ports: Sequence[BoundPort]) -> list[str]:
    """One readable line per port: what the table does with it."""
    out = []
    for port in sorted(ports, key=lambda p: p.port_id):
        tap = hybrid_devices(port.port_id)[TAP]
        if not port.port_security_enabled:
            out.append(f"{tap} {port.port_id}: not filtered (port security off)")
            continue
        sources = [f.ip_address for f in port.fixed_ips] + [ip for ip, _mac in port.allowed_address_pairs]
        out.append(
            f"{tap} {port.port_id}: {len(rule_lines(port, 'ingress'))} ingress / "
            f"{len(rule_lines(port, 'egress'))} egress rule(s) from {len(port.security_groups)} group(s); "
            f"may send from {', '.join(port_macs(port))} / {', '.join(sources) or 'any address'}"
        )
    return out
