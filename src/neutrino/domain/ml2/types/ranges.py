"""Parse the type drivers' range options (pure data in, data out).

``network_vlan_ranges`` entries are ``physnet:min:max`` or a bare ``physnet`` (known for
provider networks, nothing to allocate from); several entries may name the same physnet.
``vni_ranges`` entries are ``min:max``. A bad entry is a configuration error, reported at
server start with the entry and the reason (Neutron refuses to start too).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence

MIN_VLAN_TAG = 1
MAX_VLAN_TAG = 4094
MIN_VNI = 1
MAX_VNI = 2**24 - 1

Range = tuple[int, int]


class RangeError(ValueError):
    """An entry of a range option that cannot be used."""


def _bounds(text: str, low: int, high: int, what: str, entry: str) -> Range:
    parts = text.split(":")
    if len(parts) != 2:
        raise RangeError(f"Invalid {what} range: '{entry}' - expected 'min:max'")
    try:
        lo, hi = int(parts[0]), int(parts[1])
    except ValueError:
        raise RangeError(f"Invalid {what} range: '{entry}' - bounds must be integers") from None
    for value in (lo, hi):
        if not low <= value <= high:
            raise RangeError(f"Invalid {what} range: '{entry}' - {value} is not in {low}..{high}")
    if lo > hi:
        raise RangeError(f"Invalid {what} range: '{entry}' - minimum {lo} is above maximum {hi}")
    return lo, hi


def parse_vlan_ranges(entries: Iterable[str]) -> dict[str, list[Range]]:
    """``["physnet1:100:199", "physnet2"]`` -> ``{"physnet1": [(100, 199)], "physnet2": []}``."""
    out: dict[str, list[Range]] = {}
    for raw in entries:
        entry = raw.strip()
        physnet, sep, rest = entry.partition(":")
        if not physnet:
            raise RangeError(f"Invalid network VLAN range: '{raw}' - missing physical network name")
        ranges = out.setdefault(physnet, [])
        if sep:
            ranges.append(_bounds(rest, MIN_VLAN_TAG, MAX_VLAN_TAG, "network VLAN", raw))
    return out


def parse_tunnel_ranges(entries: Iterable[str], max_id: int = MAX_VNI) -> list[Range]:
    """``["1:1000", "2000:2099"]`` -> ``[(1, 1000), (2000, 2099)]``."""
    return [_bounds(raw.strip(), MIN_VNI, max_id, "network tunnel", raw) for raw in entries]


def parse_flat_networks(entries: Sequence[str]) -> frozenset[str] | None:
    """``["*"]`` -> None (any physnet); ``[]`` -> empty set (flat networks disabled)."""
    names = [e.strip() for e in entries if e.strip()]
    if "*" in names:
        return None
    return frozenset(names)


def ids_in(ranges: Iterable[Range]) -> set[int]:
    ids: set[int] = set()
    for lo, hi in ranges:
        ids.update(range(lo, hi + 1))
    return ids


def covered(value: int, ranges: Iterable[Range]) -> bool:
    return any(lo <= value <= hi for lo, hi in ranges)


def choose(candidates: Sequence[tuple[object, ...]], rng: random.Random | None = None) -> tuple[object, ...] | None:
    """The allocation choice: a random one of the free rows read (None if there are none).

    Random rather than lowest, as Neutron does: concurrent allocators that read the same free
    rows then rarely pick the same one, so few of them lose the race and retry.
    """
    if not candidates:
        return None
    return (rng or random).choice(candidates)
