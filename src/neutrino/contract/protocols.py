"""IP protocols in security group rules: the names Neutron accepts and their numbers.

Why here: the server stores what the user wrote (``tcp``, ``"6"``), but duplicate detection
and the agents' firewall need one canonical form, and some protocols only make sense for IPv6
or carry port ranges. Values follow neutron-lib's ``IP_PROTOCOL_MAP`` (docs/neutron-behaviour.md).
"""

from __future__ import annotations

IP_PROTOCOL_MAP: dict[str, int] = {
    "ah": 51,
    "dccp": 33,
    "egp": 8,
    "esp": 50,
    "gre": 47,
    "hopopt": 0,
    "icmp": 1,
    "igmp": 2,
    "ipip": 4,
    "ipv6-encap": 41,
    "ipv6-frag": 44,
    "ipv6-icmp": 58,
    "icmpv6": 58,  # legacy spelling, kept for compatibility as Neutron does
    "ipv6-nonxt": 59,
    "ipv6-opts": 60,
    "ipv6-route": 43,
    "ospf": 89,
    "pgm": 113,
    "rsvp": 46,
    "sctp": 132,
    "tcp": 6,
    "udp": 17,
    "udplite": 136,
    "vrrp": 112,
}
ANY = "any"
ICMP = 1
IPV6_ICMP = 58
# protocols whose rules carry a destination port range (1-65535)
PORT_PROTOCOLS = ("dccp", "sctp", "tcp", "udp", "udplite")
PORT_PROTOCOL_NUMBERS = frozenset(IP_PROTOCOL_MAP[p] for p in PORT_PROTOCOLS)
# legacy names of ICMPv6 that an IPv6 rule turns into ``ipv6-icmp``
IPV6_ICMP_LEGACY = ("icmp", "icmpv6")
# protocols that exist only with IPv6: an IPv4 rule naming them is a conflict
IPV6_ONLY = frozenset(
    ["ipv6-encap", "ipv6-frag", "ipv6-icmp", "icmpv6", "ipv6-nonxt", "ipv6-opts", "ipv6-route"]
    + [str(n) for n in (41, 44, 58, 59, 60, 43)]
)
SUPPORTED = [None, *IP_PROTOCOL_MAP]


def canonical_for(protocol: str | None, ethertype: str) -> str | None:
    """IPv6 rules spell ICMPv6 ``ipv6-icmp`` (or ``58``): the legacy ``icmp``/``icmpv6`` and
    ``1`` are rewritten, as Neutron does when it stores the rule."""
    if protocol is None or ethertype != "IPv6":
        return protocol
    if protocol in IPV6_ICMP_LEGACY:
        return "ipv6-icmp"
    if protocol == str(ICMP):
        return str(IPV6_ICMP)
    return protocol


def number(protocol: str | None) -> int | None:
    """The IP protocol number of a stored spelling (``None`` stays ``None``)."""
    if protocol is None:
        return None
    if protocol in IP_PROTOCOL_MAP:
        return IP_PROTOCOL_MAP[protocol]
    return int(protocol)
