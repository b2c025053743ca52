"""The host namespace settings the hybrid firewall relies on, checked purely
(docs/dataplane.md, "br_netfilter and the hybrid firewall").

The table's connection tracking comes from br_netfilter: bridged IPv4/IPv6 only reaches the
inet hooks (conntrack, and ``rules.CT_BODY``'s state marks) when ``bridge-nf-call-iptables`` /
``bridge-nf-call-ip6tables`` are 1 *in the namespace that holds the qbr bridges* (they are per
namespace). When they are 0 nothing is bypassed (the bridge table still filters) but every
packet looks new, so replies to allowed traffic are dropped. Read ``KEYS`` in that namespace
(``Netlink.get_sysctl``; a missing key reads as ``None``) and pass them to ``problems``.
"""

from __future__ import annotations

from collections.abc import Mapping

IPV4_KEY = "net.bridge.bridge-nf-call-iptables"
IPV6_KEY = "net.bridge.bridge-nf-call-ip6tables"
KEYS = (IPV4_KEY, IPV6_KEY)
REQUIRED = {IPV4_KEY: "1", IPV6_KEY: "1"}
_WHAT = {IPV4_KEY: "IPv4", IPV6_KEY: "IPv6"}


def problems(values: Mapping[str, str | None]) -> list[str]:
    """What is wrong with the values read (empty: nothing); each line says the consequence."""
    out = []
    for key, want in REQUIRED.items():
        got = values.get(key)
        if got is None:
            out.append(f"{key} is missing: br_netfilter is not available, bridged traffic is never tracked")
        elif got.strip() != want:
            out.append(
                f"{key} = {got.strip()} (want {want}): bridged {_WHAT[key]} skips conntrack, "
                "every packet looks new and replies to allowed traffic are dropped"
            )
    return out


def corrections(values: Mapping[str, str | None]) -> dict[str, str]:
    """The settable keys whose value is wrong, with the value they need (missing keys cannot be set)."""
    out = {}
    for key, want in REQUIRED.items():
        got = values.get(key)
        if got is not None and got.strip() != want:
            out[key] = want
    return out
