"""Prefix arithmetic of subnet pools, pure: data in, data out, Neutron's errors.

A subnet pool is a set of prefixes (one IP version) from which subnets are carved. Its free
space is the prefixes minus the cidrs of the subnets already allocated from it; nothing else
is stored, so deleting a subnet gives its prefix back. Neutron's choices, kept here
(docs/neutron-behaviour.md, "Subnet pools and address scopes"):

* prefixes are compacted (overlapping and adjacent ones merged) and kept sorted;
* a request for "any /N" takes the first /N of the smallest free block that holds one
  (blocks ordered by size, smallest first, then by address);
* a request for a specific cidr must lie inside one free block;
* ``default_quota`` counts addresses in units of /32 (IPv4) or /64 (IPv6).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from neutrino import errors

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

BITS = {4: 32, 6: 128}
DEFAULT_MIN_PREFIXLEN = {4: 8, 6: 64}
QUOTA_UNIT_PREFIXLEN = {4: 32, 6: 64}


def network(cidr: str | IPNetwork) -> IPNetwork:
    """A prefix as a network; host bits are dropped (Neutron accepts ``10.11.12.13/24``)."""
    if isinstance(cidr, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return cidr
    return ipaddress.ip_network(cidr, strict=False)


def _nets(cidrs: Iterable[str | IPNetwork]) -> list[IPNetwork]:
    return [network(c) for c in cidrs]


def compact(cidrs: Iterable[str | IPNetwork]) -> list[str]:
    """Merge overlapping and adjacent prefixes of one version; sorted by address."""
    nets = _nets(cidrs)
    return [str(n) for n in ipaddress.collapse_addresses(nets)]  # type: ignore[type-var]


def subtract(cidrs: Iterable[str | IPNetwork], holes: Iterable[str | IPNetwork]) -> list[IPNetwork]:
    """The address space of ``cidrs`` without that of ``holes``, as sorted, disjoint cidrs."""
    remaining = list(ipaddress.collapse_addresses(_nets(cidrs)))  # type: ignore[type-var]
    for hole in _nets(holes):
        out: list[IPNetwork] = []
        for block in remaining:
            if block.version != hole.version or not block.overlaps(hole):
                out.append(block)
            elif not hole.supernet_of(block):  # type: ignore[arg-type]
                out.extend(block.address_exclude(hole))  # type: ignore[arg-type]
        remaining = out
    return sorted(remaining, key=lambda n: (n.version, int(n.network_address), n.prefixlen))


def intersects(a: Iterable[str | IPNetwork], b: Iterable[str | IPNetwork]) -> bool:
    """Whether the two prefix lists share any address."""
    left, right = _nets(a), _nets(b)
    return any(x.version == y.version and x.overlaps(y) for x in left for y in right)  # type: ignore[arg-type]


def covers(outer: Iterable[str | IPNetwork], inner: Iterable[str | IPNetwork]) -> bool:
    """Whether every address of ``inner`` is in ``outer``."""
    return not subtract(inner, outer)


# --- reading a pool's shape ----------------------------------------------------------------


@dataclass(frozen=True)
class PoolShape:
    """A pool's prefixes and prefix-length bounds, checked and completed with defaults."""

    ip_version: int
    prefixes: tuple[str, ...]
    min_prefixlen: int
    max_prefixlen: int
    default_prefixlen: int


def prefix_version(prefixes: Sequence[str]) -> int:
    """The one IP version of a prefix list (EmptySubnetPoolPrefixList, PrefixVersionMismatch)."""
    if not prefixes:
        raise errors.EmptySubnetPoolPrefixList()
    versions = {network(p).version for p in prefixes}
    if len(versions) > 1:
        raise errors.PrefixVersionMismatch()
    return versions.pop()


def read_shape(
    prefixes: Sequence[str],
    *,
    min_prefixlen: int | None = None,
    max_prefixlen: int | None = None,
    default_prefixlen: int | None = None,
) -> PoolShape:
    """Neutron's SubnetPoolReader: defaults min /8 (IPv4) or /64 (IPv6), max the address
    width, default the min; then min <= default <= max <= width, each with its own error."""
    version = prefix_version(prefixes)
    low = DEFAULT_MIN_PREFIXLEN[version] if min_prefixlen is None else min_prefixlen
    high = BITS[version] if max_prefixlen is None else max_prefixlen
    default = low if default_prefixlen is None else default_prefixlen
    if low > high:
        raise errors.IllegalSubnetPoolPrefixBounds(
            prefix_type="min_prefixlen", prefixlen=low, base_prefix_type="max_prefixlen", base_prefixlen=high
        )
    if high > BITS[version]:
        raise errors.IllegalSubnetPoolPrefixBounds(
            prefix_type="max_prefixlen", prefixlen=high, base_prefix_type="ip_version_max",
            base_prefixlen=BITS[version],
        )
    if default < low:
        raise errors.IllegalSubnetPoolPrefixBounds(
            prefix_type="default_prefixlen", prefixlen=default, base_prefix_type="min_prefixlen", base_prefixlen=low
        )
    if default > high:
        raise errors.IllegalSubnetPoolPrefixBounds(
            prefix_type="default_prefixlen", prefixlen=default, base_prefix_type="max_prefixlen", base_prefixlen=high
        )
    return PoolShape(version, tuple(compact(prefixes)), low, high, default)


# --- changing the prefix list ----------------------------------------------------------------


def grown_prefixes(current: Sequence[str], wanted: Sequence[str]) -> list[str]:
    """An update's new prefix list: it may only grow (the old space must stay covered)."""
    prefix_version(wanted)
    if not covers(wanted, current):
        raise errors.IllegalSubnetPoolPrefixUpdate(msg="Existing prefixes must be a subset of the new prefixes")
    return compact(wanted)


def shrunk_prefixes(current: Sequence[str], removed: Sequence[str], allocated: Sequence[str]) -> list[str]:
    """``remove_prefixes``: unchanged if none of ``removed`` is in the pool; refused if any
    allocated subnet lies in it; else the remaining space, compacted."""
    if not intersects(current, removed):
        return list(current)
    if intersects(allocated, removed):
        raise errors.IllegalSubnetPoolPrefixUpdate(msg="One or more the prefixes to be removed is in use by a subnet.")
    return [str(n) for n in ipaddress.collapse_addresses(subtract(current, removed))]  # type: ignore[type-var]


# --- allocating a subnet -----------------------------------------------------------------------


def free_blocks(prefixes: Sequence[str], allocated: Sequence[str]) -> list[IPNetwork]:
    """The pool's free space, smallest blocks first, then by address (Neutron's order)."""
    free = subtract(prefixes, allocated)
    return sorted(free, key=lambda n: (-n.prefixlen, int(n.network_address)))


def check_prefixlen(prefixlen: int, min_prefixlen: int, max_prefixlen: int) -> None:
    if prefixlen > max_prefixlen:
        raise errors.MaxPrefixSubnetAllocationError(prefixlen=prefixlen, max_prefixlen=max_prefixlen)
    if prefixlen < min_prefixlen:
        raise errors.MinPrefixSubnetAllocationError(prefixlen=prefixlen, min_prefixlen=min_prefixlen)


def quota_units(ip_version: int, cidrs: Iterable[str]) -> float:
    """Address count in the pool's quota unit (/32 for IPv4, /64 for IPv6)."""
    unit = QUOTA_UNIT_PREFIXLEN[ip_version]
    return sum(2.0 ** (unit - network(c).prefixlen) for c in cidrs)


def check_quota(ip_version: int, quota: int | None, used: Sequence[str], prefixlen: int) -> None:
    """``default_quota`` (0 or unset: no limit) against what is used plus a new /prefixlen."""
    if not quota:
        return
    wanted = 2.0 ** (QUOTA_UNIT_PREFIXLEN[ip_version] - prefixlen)
    if quota_units(ip_version, used) + wanted > quota:
        raise errors.SubnetPoolQuotaExceeded()


def allocate_any(prefixes: Sequence[str], allocated: Sequence[str], prefixlen: int) -> str:
    """The first /prefixlen of the smallest free block that can hold one."""
    for block in free_blocks(prefixes, allocated):
        if prefixlen >= block.prefixlen:
            return str(next(block.subnets(new_prefix=prefixlen)))
    raise errors.SubnetAllocationError(reason=f"Insufficient prefix space to allocate subnet size /{prefixlen}")


def allocate_specific(prefixes: Sequence[str], allocated: Sequence[str], cidr: str) -> str:
    """``cidr`` itself, if it lies inside one free block of the pool."""
    wanted = network(cidr)
    for block in free_blocks(prefixes, allocated):
        if block.version == wanted.version and wanted.subnet_of(block):  # type: ignore[arg-type]
            return str(wanted)
    raise errors.SubnetAllocationError(reason="Cannot allocate requested subnet from the available set of prefixes")
