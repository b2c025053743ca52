"""Address prefixes of one IP version merged into nft set elements (pure; ``rules.collapse``).

Remembered per input: a remote group's members stay the same until the group changes, and
merging 500 of them took most of a pass that learnt one new member (docs/architecture.md).
Host addresses, nearly every input (fixed IPs, a group's members), are merged without
``ipaddress.collapse_addresses``: runs of consecutive addresses become the smallest prefixes
that cover them, which is what it returns for them too. It reads each network's cached
``broadcast_address``, and Python 3.11's ``functools.cached_property`` takes one lock per
class: the passes of a hundred simulated hosts in one process waited on each other there.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterator
from typing import Any


@functools.lru_cache(maxsize=4096)
def merged(prefixes: tuple[str, ...], version: int) -> tuple[str, ...] | None:
    """The prefixes of ``version`` merged, host routes as bare addresses; None for "any"."""
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
