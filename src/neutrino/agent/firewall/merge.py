"""Address prefixes of one IP version merged into nft set elements (pure; ``rules.collapse``).

Remembered per input: a remote group's members stay the same until the group changes, and
merging 500 of them took most of a pass that learnt one new member (docs/architecture.md).
Host addresses, nearly every input (fixed IPs, a group's members), are merged without
``ipaddress.collapse_addresses``: runs of consecutive addresses become the smallest prefixes
that cover them, which is what it returns for them too. It reads each network's cached
``broadcast_address``, and Python 3.11's ``functools.cached_property`` takes one lock per
class: the passes of a hundred simulated hosts in one process waited on each other there.
Bare addresses (no ``/``), the members of a remote group, are parsed by ``socket.inet_pton``
into integers, not into ``ipaddress`` objects: a real agent merges each new member set once,
and parsing 500 addresses through ``ipaddress`` was 2 ms of a 4 ms pass.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from collections.abc import Iterator
from typing import Any


@functools.lru_cache(maxsize=4096)
def merged(prefixes: tuple[str, ...], version: int) -> tuple[str, ...] | None:
    """The prefixes of ``version`` merged, host routes as bare addresses; None for "any"."""
    if not any("/" in p for p in prefixes):
        return _merged_addresses(prefixes, version)
    nets = [ipaddress.ip_network(p, strict=False) for p in prefixes]
    nets = [n for n in nets if n.version == version]
    if any(n.prefixlen == 0 for n in nets):
        return None
    if all(n.prefixlen == n.max_prefixlen for n in nets):
        blocks: Any = _runs(sorted({n.network_address for n in nets}))
    else:
        blocks = ipaddress.collapse_addresses(nets)  # type: ignore[type-var]
    return tuple(str(n.network_address) if n.prefixlen == n.max_prefixlen else str(n) for n in blocks)


def _runs(addresses: list[Any]) -> Iterator[Any]:
    """The smallest prefixes covering each run of consecutive ``addresses`` (sorted, unique)."""
    start = 0
    for i in range(1, len(addresses) + 1):
        if i == len(addresses) or int(addresses[i]) != int(addresses[i - 1]) + 1:
            yield from ipaddress.summarize_address_range(addresses[start], addresses[i - 1])
            start = i


def _merged_addresses(addresses: tuple[str, ...], version: int) -> tuple[str, ...]:
    """``merged`` for bare addresses: integers, sorted and unique, in runs; a single address is
    written back in its canonical form, a longer run as the prefixes that cover it."""
    family, width = (socket.AF_INET, 4) if version == 4 else (socket.AF_INET6, 16)
    numbers = set()
    for text in addresses:
        if (":" in text) != (version == 6):
            continue  # the other version
        try:
            numbers.add(int.from_bytes(socket.inet_pton(family, text), "big"))
        except OSError:
            raise ValueError(f"{text!r} does not appear to be an IPv{version} address") from None
    ordered = sorted(numbers)
    out: list[str] = []
    start = 0
    for i in range(1, len(ordered) + 1):
        if i < len(ordered) and ordered[i] == ordered[i - 1] + 1:
            continue
        if i - start == 1:
            out.append(_text(ordered[start], version, width))
        else:
            make: Any = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
            out += [str(n.network_address) if n.prefixlen == n.max_prefixlen else str(n)
                    for n in ipaddress.summarize_address_range(make(ordered[start]), make(ordered[i - 1]))]
        start = i
    return tuple(out)


def _text(number: int, version: int, width: int) -> str:
    """The canonical text of an address (``ipaddress``'s: IPv6 compressed its way)."""
    if version == 4:
        return socket.inet_ntop(socket.AF_INET, number.to_bytes(width, "big"))
    return str(ipaddress.IPv6Address(number))
