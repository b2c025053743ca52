"""A network's writable ``mtu`` (Neutron's ``net-mtu-writable``), checked as ML2 checks it.

Why here: the largest MTU a network may have comes from its segments (the type driver's
``get_mtu``), so only ML2 can validate the requested value. ``0`` (the API default) or no value
means "the largest the segments allow"; anything above that is refused with Neutron's message.
A network with subnets cannot go below what they need (68 for any subnet, 1280 for IPv6), and
an IPv6 subnet cannot be added to a network whose MTU is below 1280 (409, as Neutron).
"""

from __future__ import annotations

from collections.abc import Iterable

from neutrino import errors

IPV4_MIN_MTU = 68
IPV6_MIN_MTU = 1280


def choose(requested: int | None, maximum: int) -> int:
    """The MTU to store: the requested one if the segments carry it, else the maximum."""
    if requested and maximum and requested > maximum:
        raise errors.InvalidInput(error_message=f"Requested MTU is too big, maximum is {maximum}")
    return requested or maximum


def check_subnets(network_id: str, mtu: int, ip_versions: Iterable[int]) -> None:
    """Refuse an MTU too small for the network's subnets (of these IP versions)."""
    if not mtu or mtu >= IPV6_MIN_MTU:
        return
    versions = set(ip_versions)
    if not versions:
        return
    if mtu < IPV4_MIN_MTU:
        raise errors.NetworkMTUSubnetConflict(net_id=network_id, mtu=IPV4_MIN_MTU)
    if 6 in versions:
        raise errors.NetworkMTUSubnetConflict(net_id=network_id, mtu=IPV6_MIN_MTU)
