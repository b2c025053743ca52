"""Fixed addresses a test can ask for after some random allocation in the same subnet.

Why: IPAM gives every port but DHCP and distributed ones a random free address of its subnet
(Neutron's policy, src/neutrino/domain/ipam/addresses.py), and so do router gateways and
floating IPs. A test that then asks for a hard-coded address, or relies on one being held by
nobody (a spoofed source, an address "the port does not have"), fails when the random draw
took it: about once in 250 runs per port in a /24. The addresses come from here instead: the
first of the subnet's hosts, from ``first`` upward, that none of the ports holds.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any


def held_by(ports: Iterable[Mapping[str, Any]]) -> set[str]:
    """Every fixed IP of ``ports`` (API port bodies)."""
    return {f["ip_address"] for p in ports for f in p.get("fixed_ips") or ()}


def free_hosts(cidr: str, held: Iterable[str], count: int = 1, first: int = 50) -> list[str]:
    """``count`` host addresses of ``cidr`` not in ``held``, from its ``first``-th host upward
    (below the broadcast address), in order."""
    net = ipaddress.ip_network(cidr)
    taken = {ipaddress.ip_address(a) for a in held}
    found: list[str] = []
    for n in range(first, net.num_addresses - 1):
        addr = net.network_address + n
        if addr not in taken:
            found.append(str(addr))
            if len(found) == count:
                return found
    raise AssertionError(f"{cidr} has fewer than {count} free hosts from .{first}")
