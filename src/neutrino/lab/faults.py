"""Faults a lab test inflicts on purpose: a host cut off from every underlay switch.

A network node that dies takes its dataplane with it. Stopping its agent alone would leave its
qrouter and dnsmasq answering on the wire for the very addresses the surviving node takes
over, so a failover test also cuts the host's wires: the root ends of its veths (physnets,
tunnel, external) go down, the switches drop what they had learnt behind them, and nothing
the host still holds is reachable. ``restore_underlay`` brings them back. Only the lab's own
links are touched, never anything else in the root namespace.
"""

from __future__ import annotations

from neutrino.dataplane.netlink import Netlink
from neutrino.lab import resolve as rs


def cut_underlay(lab: rs.ResolvedLab, host: str) -> list[str]:
    """Set every underlay wire of ``host`` down at the switch end; the links cut."""
    wires = [w.root_end for w in lab.host(host).wires]
    with Netlink() as netlink:
        for root_end in wires:
            netlink.set_link(root_end, up=False)
    return wires


def restore_underlay(lab: rs.ResolvedLab, host: str) -> list[str]:
    wires = [w.root_end for w in lab.host(host).wires]
    with Netlink() as netlink:
        for root_end in wires:
            netlink.set_link(root_end, up=True)
    return wires
