"""The connection-state half of the firewall: the constant part of the ``inet`` CT table and the
mark bits through which it tells the ``bridge`` table what conntrack found (pure text).

The bridge family cannot read conntrack on this kernel (no nf_conntrack_bridge), so br_netfilter
runs bridged IP through the inet hooks: conntrack at prerouting in the bridge's zone
(``conntrack.ct_body``), then this table's ``state`` chain in the forward hook writes two bits
of the packet mark, and the bridge table's forward chain, after br_netfilter's, reads them
(``rules``; docs/dataplane.md, "Fewer base chains").
"""

from __future__ import annotations

from neutrino.dataplane.naming import QBR

CT_FAMILY = "inet"
CT_TABLE = "neutrino-fw-ct"

CT_MASK = 0x0300_0000
CT_ESTABLISHED = 0x0100_0000  # conntrack says established or related
CT_INVALID = 0x0200_0000
KEEP = 0xFFFF_FFFF & ~CT_MASK

CUT = 0x1
"""The conntrack mark of a connection a removed rule (or a remote group's lost member) no longer
allows (``agent/firewall/conntrack.py``): the state chain calls it invalid, so both directions
drop. The entry is marked, not deleted: once deleted, the other end's next packet (a delayed
ACK) would be taken up mid-stream as a new connection the other way, which that end's rules
may allow, and the first end's packets would then pass as its replies (docs/dataplane.md,
"Conntrack zones per network, and removed rules")."""

CT_BRIDGES = (QBR, "brq")
"""Bridges whose IP traffic is tracked: the hybrid plug's per-port qbr, the Linux bridge agent's per-network brq."""
TUNNEL_UDP_PORT = 4789
"""The VXLAN underlay's UDP port: the host's own tunnel packets are not tracked (``CT_BODY``)."""
BRIDGE_FORWARD_PRIORITY = 100
"""After br_netfilter's own forward hook (priority 0 of the bridge family), inside which the
inet forward hook runs and ``CT_BODY``'s ``state`` chain writes the state marks."""
# The state marks are written in the inet *forward* hook, which br_netfilter runs for bridged IP
# only (not for the host's own traffic: the arriving VXLAN underlay enters one base chain, the
# zone chain, instead of two), right before the bridge table's forward chain reads them. A
# Linux bridge agent's packet (brq, tested first) meets two rules: its bridge name, then the
# state test that clears and sets both bits in one statement and accepts. Selected by name, not
# by zone: a packet conntrack found invalid has no entry, but ``ct state`` still says invalid.
# Plain comparisons, not sets: a set of wildcard names cost more per packet than the rules it
# replaced (perf, docs/dataplane.md "Fewer base chains"). The host's VXLAN underlay (outer UDP
# 4789 not entering a tracked bridge, and every locally sent one) is NOTRACK: its entries
# served nothing and cost two conntrack passes per tunnelled packet on each host
# (docs/dataplane.md, "Throughput").
CT_BODY = "\n".join(
    ["\tchain state {", "\t\ttype filter hook forward priority -150; policy accept;"]
    + [f'\t\tiifname "{prefix}*" goto state_mark' for prefix in reversed(CT_BRIDGES)]
    + ["\t}", "\tchain state_mark {",
       f"\t\tct mark {CUT:#010x} meta mark set meta mark and {KEEP:#010x} or {CT_INVALID:#010x} accept",
       f"\t\tct state established,related meta mark set meta mark and {KEEP:#010x} or {CT_ESTABLISHED:#010x} accept",
       f"\t\tct state invalid meta mark set meta mark and {KEEP:#010x} or {CT_INVALID:#010x} accept",
       f"\t\tmeta mark set meta mark and {KEEP:#010x}",
       "\t}",
       "\tchain tunnel_out {",
       "\t\ttype filter hook output priority -300; policy accept;",
       f"\t\tudp dport {TUNNEL_UDP_PORT} notrack",
       "\t}"]
)  # fmt: skip
TUNNEL_IN = f"udp dport {TUNNEL_UDP_PORT} " + " ".join(f'iifname != "{prefix}*"' for prefix in CT_BRIDGES) + " notrack accept"
"""The raw-priority rule (in ``conntrack.ct_body``'s zone chain) that leaves the arriving
underlay untracked (``accept`` ends that chain: no zone lookup for it); a tenant's own VXLAN
inside a bridge stays tracked like any UDP."""

STATE = [
    f"meta mark and {CT_MASK:#010x} == {CT_ESTABLISHED:#010x} accept",
    f"meta mark and {CT_MASK:#010x} == {CT_INVALID:#010x} drop",
]
TCP_ESTABLISHED = f"meta l4proto tcp meta mark and {CT_MASK:#010x} == {CT_ESTABLISHED:#010x} accept"
"""The fast path of an established TCP stream: first in a port's ingress chain, first after the
anti-spoofing jump in its egress chain. The rules it skips only match non-IP, UDP (DHCP) and
ICMPv6, so the verdict is the one ``STATE`` gives further down; only fewer rules are evaluated
per packet (docs/dataplane.md, "Throughput"). Not for UDP: an established UDP flow must still
meet the DHCP reply drop."""
