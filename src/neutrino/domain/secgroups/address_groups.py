"""Address group addresses: parsing and normalisation (pure).

Neutron stores each address of a group as its network (``192.168.0.10/24`` is kept as
``192.168.0.0/24``) and compares requested addresses with the stored ones in that form. On
create a list item must carry its prefix length (``type:subnet_list``: ``10.20.30.40`` is a
400); the add/remove actions take bare addresses as host routes (``10.0.0.1`` = ``10.0.0.1/32``).
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Iterable
from typing import Any

from neutrino import errors


def network_of(address: Any) -> str:
    """``address`` as the network Neutron stores, or InvalidInput (400)."""
    if not isinstance(address, str) or address != address.strip():
        raise errors.InvalidInput(error_message=f"'{address}' is not a valid IP subnet")
    try:
        return str(ipaddress.ip_network(address, strict=False))
    except ValueError:
        raise errors.InvalidInput(error_message=f"'{address}' is not a valid IP subnet") from None


def validate_subnet_list(value: Any, arg: Any = None) -> str | None:
    """The create body's ``addresses``: a list of distinct CIDRs, each with its prefix length."""
    if not isinstance(value, list):
        return f"'{value}' is not a list"
    counts = Counter(str(v) for v in value)
    dups = [item for item, n in counts.items() if n > 1]
    if dups:
        return f"Duplicate items in the list: '{', '.join(dups)}'"
    for item in value:
        if not isinstance(item, str) or "/" not in item:
            return f"'{item}' is not a valid IP subnet"
        try:
            net = ipaddress.ip_interface(item)
        except ValueError:
            return f"'{item}' is not a valid IP subnet"
        if net.version == 4 and str(net) != item:
            return f"'{item}' is not a valid IP subnet"
    return None


def split_requested(existing: Iterable[str], requested: Any) -> tuple[list[str], list[str]]:
    """The requested addresses (normalised, duplicates once) already in the group and not in it."""
    if not isinstance(requested, list):
        raise errors.InvalidInput(error_message=f"'{requested}' is not a list")
    have = set(existing)
    wanted = list(dict.fromkeys(network_of(a) for a in requested))
    return [a for a in wanted if a in have], [a for a in wanted if a not in have]


def by_version(addresses: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(IPv4, IPv6) addresses, sorted: what a firewall set of the group holds per family."""
    nets = [ipaddress.ip_network(a) for a in addresses]
    v4 = sorted(n for n in nets if isinstance(n, ipaddress.IPv4Network))
    v6 = sorted(n for n in nets if isinstance(n, ipaddress.IPv6Network))
    return tuple(str(n) for n in v4), tuple(str(n) for n in v6)
