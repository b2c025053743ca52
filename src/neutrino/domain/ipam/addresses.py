"""Choosing a port's address: EUI-64 on auto-address subnets, otherwise a free pool address.

Why: address choice runs inside the port-create transaction, so it must be cheap on any subnet
size. Pools are walked as integer ranges and only the *allocated* addresses are looked at
(sorted once), so a /64 with a handful of ports answers instantly and a nearly full /16 costs
one pass over its allocations, never a pass over the whole range. The policy is Neutron's:
the lowest free address for DHCP/distributed ports ("prefer next"), a random one among the
first ``window`` free addresses for everything else (spreads concurrent creates so they rarely
collide and have to retry).
"""

from __future__ import annotations

import bisect
import ipaddress
import socket
import random
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from neutrino.domain.ipam.mac import normalize_mac

AUTO_ADDRESS_MODES = ("slaac", "dhcpv6-stateless")

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_auto_address_subnet(
    ip_version: int, ipv6_address_mode: str | None, ipv6_ra_mode: str | None
) -> bool:
    """Does the subnet hand out addresses by SLAAC (EUI-64) instead of from its pools?

    The address mode decides when it is set; otherwise the RA mode does.
    """
    if ip_version != 6:
        return False
    mode = ipv6_address_mode if ipv6_address_mode is not None else ipv6_ra_mode
    return mode in AUTO_ADDRESS_MODES


def eui64_address(cidr: str, mac: str) -> str:
    """The modified EUI-64 address of ``mac`` on an IPv6 prefix (RFC 4291 appendix A).

    The universal/local bit of the first octet is flipped and ``ff:fe`` inserted in the
    middle; the prefix keeps its own bits above the 64-bit interface id.
    """
    net = ipaddress.ip_network(cidr, strict=False)
    if net.version != 6:
        raise ValueError(f"Unable to generate IP address by EUI64 for IPv4 prefix {cidr}")
    octets = bytes.fromhex(normalize_mac(mac).replace(":", ""))
    iid = bytes([octets[0] ^ 0x02]) + octets[1:3] + b"\xff\xfe" + octets[3:6]
    prefix = int(net.network_address) & ~((1 << 64) - 1)
    return str(ipaddress.IPv6Address(prefix | int.from_bytes(iid, "big")))


def _ends(pool: Any) -> tuple[_Address, _Address]:
    if isinstance(pool, dict):
        pool = (pool["start"], pool["end"])
    start, end = pool
    return ipaddress.ip_address(start), ipaddress.ip_address(end)


def _allocated_by_version(allocated: Iterable[Any]) -> dict[int, list[int]]:
    """Allocated addresses as sorted integers per IP version (junk entries are ignored)."""
    out: dict[int, set[int]] = {4: set(), 6: set()}
    for item in allocated:
        if isinstance(item, str):
            # inet_pton is several times faster than ipaddress for the common case
            try:
                out[4].add(int.from_bytes(socket.inet_pton(socket.AF_INET, item), "big"))
                continue
            except OSError:
                pass
            try:
                out[6].add(int.from_bytes(socket.inet_pton(socket.AF_INET6, item), "big"))
                continue
            except OSError:
                pass
        try:
            addr = ipaddress.ip_address(item)
        except (ValueError, TypeError):
            continue
        out[addr.version].add(int(addr))
    return {v: sorted(s) for v, s in out.items()}


def _free_ranges(lo: int, hi: int, taken: list[int]) -> Iterator[range]:
    """The gaps of ``[lo, hi]`` between the sorted ``taken`` integers."""
    cur = lo
    for t in taken[bisect.bisect_left(taken, lo) :]:
        if t > hi:
            break
        if t > cur:
            yield range(cur, t)
        cur = max(cur, t + 1)
    if cur <= hi:
        yield range(cur, hi + 1)


def pick_address(
    pools: Sequence[Any],
    allocated: Iterable[Any],
    *,
    prefer_lowest: bool,
    rng: random.Random | None = None,
    window: int = 1000,
) -> str | None:
    """A free address from the first pool that has one, or ``None`` when every pool is full.

    ``pools`` are ``(start, end)`` pairs (or ``{"start", "end"}`` dicts) in the subnet's
    order; ``allocated`` holds addresses in use (strings or ``ipaddress`` objects).
    """
    taken = _allocated_by_version(allocated)
    source = rng if rng is not None else random
    for pool in pools:
        start, end = _ends(pool)
        make = type(start)
        candidates: list[int] = []
        for gap in _free_ranges(int(start), int(end), taken[start.version]):
            if prefer_lowest:
                return str(make(gap[0]))
            candidates.extend(gap[: window - len(candidates)])
            if len(candidates) >= window:
                break
        if candidates:
            return str(make(source.choice(candidates)))
    return None


def count_free(pools: Sequence[Any], allocated: Iterable[Any]) -> int:
    """How many addresses of ``pools`` are not allocated (pools assumed disjoint)."""
    taken = _allocated_by_version(allocated)
    total = 0
    for pool in pools:
        start, end = _ends(pool)
        gaps = _free_ranges(int(start), int(end), taken[start.version])
        total += sum(g.stop - g.start for g in gaps)
    return total
