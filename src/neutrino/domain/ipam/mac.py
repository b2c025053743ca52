"""MAC addresses for ports: generation from ``base_mac``, one canonical spelling, sanity checks.

Why: a port's MAC is compared for uniqueness per network and written into OVS flows and
dnsmasq host files, so every layer must agree on one spelling (lower-case, colon separated).
Generation follows neutron-lib's ``get_random_mac``: the operator's ``base_mac`` fixes the OUI
(and the fourth octet when it is non-zero) so that addresses are recognisably OpenStack's.
"""

from __future__ import annotations

import random
import re

DEFAULT_BASE_MAC = "fa:16:3e:00:00:00"

_SEPARATED = re.compile(r"^([0-9a-fA-F]{1,2})([:-])" + r"([0-9a-fA-F]{1,2})\2" * 4 + r"([0-9a-fA-F]{1,2})$")
_DOTTED = re.compile(r"^([0-9a-fA-F]{4})\.([0-9a-fA-F]{4})\.([0-9a-fA-F]{4})$")
_BARE = re.compile(r"^[0-9a-fA-F]{12}$")


def _octets(mac: str) -> list[int]:
    if not isinstance(mac, str):
        raise ValueError(f"'{mac}' is not a valid MAC address")
    text = mac
    match = _SEPARATED.match(text)
    if match:
        groups = [g for i, g in enumerate(match.groups()) if i != 1]
        return [int(g, 16) for g in groups]
    match = _DOTTED.match(text)  # Cisco style aabb.ccdd.eeff
    if match:
        text = "".join(match.groups())
    if _BARE.match(text):
        return [int(text[i : i + 2], 16) for i in range(0, 12, 2)]
    raise ValueError(f"'{mac}' is not a valid MAC address")


def _format(octets: list[int]) -> str:
    return ":".join(f"{o:02x}" for o in octets)


def normalize_mac(mac: str) -> str:
    """Canonical lower-case colon form of ``aa:bb:..``, ``AA-BB-..``, ``aabb.ccdd.eeff`` or 12 hex
    digits; ``ValueError`` for anything else."""
    return _format(_octets(mac))


def random_mac(base_mac: str = DEFAULT_BASE_MAC, rng: random.Random | None = None) -> str:
    """A random MAC under ``base_mac``: octets 1-3 fixed, octet 4 fixed when non-zero in the
    base, the rest random."""
    base = _octets(base_mac)
    source = rng if rng is not None else random
    octets = base[:3] + [source.getrandbits(8) for _ in range(3)]
    if base[3] != 0:
        octets[3] = base[3]
    return _format(octets)


def mac_is_valid_for_port(mac: str) -> bool:
    """Usable as a port's own address: parseable, not all-zero, not broadcast, not multicast
    (the I/G bit, the low bit of the first octet, must be clear)."""
    try:
        octets = _octets(mac)
    except ValueError:
        return False
    if all(o == 0 for o in octets) or all(o == 0xFF for o in octets):
        return False
    return not octets[0] & 0x01
