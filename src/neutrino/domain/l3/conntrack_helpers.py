"""Which conntrack helpers a router may have: Neutron's ``allowed_conntrack_helpers`` default.

Pure. Each helper is a kernel conntrack helper module's name with the protocols it serves; a
request for another helper is ConntrackHelperNotAllowed, for another protocol of an allowed
helper InvalidProtocolForHelper (both 400; docs/neutron-behaviour.md, "Conntrack helpers").
"""

from __future__ import annotations

from neutrino import errors

RESOURCE = "conntrack_helper"

ALLOWED: dict[str, tuple[str, ...]] = {
    "amanda": ("tcp",),
    "ftp": ("tcp",),
    "h323": ("udp", "tcp"),
    "irc": ("tcp",),
    "netbios-ns": ("udp",),
    "pptp": ("tcp",),
    "sane": ("tcp",),
    "sip": ("udp", "tcp"),
    "snmp": ("udp",),
    "tftp": ("udp",),
}

# the protocol names neutron-lib's API accepts here (the keys of IPTABLES_PROTOCOL_MAP)
PROTOCOLS = ("dccp", "icmp", "ipv6-icmp", "sctp", "tcp", "udp")


def check_allowed(helper: str, protocol: str) -> None:
    if helper not in ALLOWED:
        raise errors.ConntrackHelperNotAllowed(helper=helper)
    if protocol not in ALLOWED[helper]:
        raise errors.InvalidProtocolForHelper(helper=helper, protocol=protocol,
                                              supported_protocols=", ".join(ALLOWED[helper]))  # fmt: skip
