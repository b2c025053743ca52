"""Faults a lab test inflicts on purpose: a host cut off from every switch of the lab.

A network node that dies takes its dataplane with it. Stopping its agent alone would leave its
qrouter and dnsmasq answering on the wire for the very addresses the surviving node takes
over, so a failover test also cuts the host's wires: the root ends of its veths (physnets,
tunnel, external, management) go down, the switches forget what they had learnt behind them,
and nothing the host still holds is reachable. Only the lab's own links are touched, never
anything else in the root namespace; ``lab down`` removes them as usual.
"""

from __future__ import annotations

from neutrino.dataplane.netlink import Netlink
from neutrino.lab import resolve


def root_ends(lab: resolve.ResolvedLab, host: str) -> list[str]:
    """The switch ends of every wire of ``host``: underlay and management."""
    h = lab.host(host)
    return [w.root_end for w in h.wires] + ([h.management.root_end] if h.management else [])


def cut_wires(lab: resolve.ResolvedLab, host: str) -> list[str]:
    """Set every wire of ``host`` down at its switch end; the links cut."""
    wires = root_ends(lab, host)
    with Netlink() as netlink:
        for root_end in wires:
            netlink.set_link(root_end, up=False)
    return wires
