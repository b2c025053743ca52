"""A router's conntrack helpers in its namespace, as data: the ``inet neutrino-cthelper`` table.

Neutron's L3 agent puts ``-p <proto> --dport <port> -j CT --helper <helper>`` in the raw table's
PREROUTING (a template the connection is created with). With nftables the helper is a named
``ct helper`` object, assigned by ``ct helper set`` in a prerouting chain that runs after
conntrack has made the entry (priority filter; at raw priority there is no entry yet), to new
connections only (docs/dataplane.md, "Conntrack helpers"). The kernel module of the helper
(nf_conntrack_ftp, ...) then follows the related connections the protocol opens. No helper, no
table. Pure: the reconciler applies the text (agent/l3/reconciler.py).
"""

from __future__ import annotations

from neutrino.contract.desired import RouterState

TABLE = "neutrino-cthelper"
FAMILY = "inet"


def object_name(helper: str, protocol: str) -> str:
    return f"{helper}-{protocol}"


def render(router: RouterState) -> str | None:
    """The body of ``table inet neutrino-cthelper``; None when the router has no helper."""
    helpers = sorted(set(router.conntrack_helpers), key=lambda h: (h.protocol, h.port, h.helper))
    if not helpers:
        return None
    lines: list[str] = []
    for helper, protocol in sorted({(h.helper, h.protocol) for h in helpers}):
        lines += [f"\tct helper {object_name(helper, protocol)} {{",
                  f'\t\ttype "{helper}" protocol {protocol}', "\t}"]  # fmt: skip
    lines += ["\tchain prerouting {", "\t\ttype filter hook prerouting priority filter; policy accept;"]
    lines += [f'\t\tct state new {h.protocol} dport {h.port} ct helper set "{object_name(h.helper, h.protocol)}"'
              for h in helpers]  # fmt: skip
    lines.append("\t}")
    return "\n".join(lines) + "\n"
