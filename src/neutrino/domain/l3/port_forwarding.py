"""Floating IP port forwarding decisions as data in, data out: port ranges, collisions and the
internal address (the checks of Neutron's port forwarding plugin, without the database).

A forwarding stores its ports as two inclusive ranges (a single port is a range of one). The
internal range is one port (every external port goes to it: "1-N") or as wide as the external
range (port i to port i: "N-N"); anything else is refused as Neutron refuses it. Two forwardings
collide when their external ranges overlap on one floating IP and protocol, or their internal
ranges overlap on one port, address and protocol. Unit-tested in
tests/unit/test_port_forwarding_rules.py.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from neutrino import errors

RESOURCE = "port_forwarding"
PROTOCOLS = ("tcp", "udp", "sctp", "dccp")
"""The protocols with ports that DNAT can map (Neutron offers these and ICMP, which has none)."""

Range = tuple[int, int]


def _bad(msg: str) -> errors.BadRequest:
    return errors.BadRequest(resource=RESOURCE, msg=msg)


def parse_range(value: str | int) -> Range:
    """``"2000:2010"`` → (2000, 2010); ``"80"`` or 80 → (80, 80)."""
    text = str(value)
    first, _, last = text.partition(":")
    return int(first), int(last or first)


def range_text(rng: Range) -> str:
    return f"{rng[0]}:{rng[1]}"


def _one(port: int | None, rng: str | None, side: str) -> Range | None:
    if rng is not None:
        parsed = parse_range(rng)
        if port is not None and parsed != (port, port):
            raise _bad(f"{side}_port and {side}_port_range must not disagree: {port} and {rng}")
        return parsed
    return (port, port) if port is not None else None


def resolve_ranges(
    external_port: int | None, external_port_range: str | None, internal_port: int | None, internal_port_range: str | None
) -> tuple[Range, Range]:
    """(external, internal) ranges from the API's single ports and ranges (either may be given)."""
    external = _one(external_port, external_port_range, "external")
    internal = _one(internal_port, internal_port_range, "internal")
    if external is None or internal is None:
        raise _bad("Both an external port (or range) and an internal port (or range) are required")
    check_relation(external, internal)
    return external, internal


def check_relation(external: Range, internal: Range) -> None:
    """Neutron's ``_validate_ranges``: internal width 0 (1-N) or equal to the external width (N-N)."""
    internal_width = internal[1] - internal[0]
    if internal_width > 0 and internal_width != external[1] - external[0]:
        raise _bad(
            "Invalid ranges of internal and/or external ports. The relation between internal and "
            "external ports must be N-N or 1-N"
        )


def collides(a: Range, b: Range) -> bool:
    return max(a[0], b[0]) <= min(a[1], b[1])


def check_collisions(wanted: Range, existing: Iterable[tuple[str, Range]], key: str, own_id: str | None) -> None:
    """Refuse ``wanted`` if it overlaps the range of another forwarding (Neutron's message)."""
    for other_id, rng in existing:
        if other_id != own_id and collides(rng, wanted):
            raise _bad(
                f"There is a port collision with the {key}. The following ranges collide: "
                f"{range_text(rng)} and {range_text(wanted)}"
            )


def internal_address(port_id: str, port_ips: Sequence[tuple[str, str]], requested: str | None) -> tuple[str, str]:
    """(subnet_id, address) on the internal port: the requested IPv4 address, which must be one
    of the port's, or its first IPv4 address."""
    v4 = [(s, ip) for s, ip in port_ips if ipaddress.ip_address(ip).version == 4]
    if not v4:
        raise _bad(f"Requested internal port {port_id} must allocate an IPv4 address at least")
    if not requested:
        return v4[0]
    wanted = ipaddress.ip_address(requested)
    for subnet_id, ip in v4:
        if ipaddress.ip_address(ip) == wanted:
            return subnet_id, ip
    listed = [{"subnet_id": s, "ip_address": ip} for s, ip in v4]
    raise _bad(
        f"Requested internal IP address {requested} is not suitable for internal neutron port "
        f"{port_id}, as its fixed_ips are {listed}"
    )


@dataclass(frozen=True)
class Shown:
    """The API's spelling of a forwarding's ports: single ports where a range is one port."""

    external_port: int | None
    internal_port: int | None
    external_port_range: str
    internal_port_range: str


def shown(external: Range, internal: Range) -> Shown:
    return Shown(
        external[0] if external[0] == external[1] else None,
        internal[0] if internal[0] == internal[1] else None,
        range_text(external),
        range_text(internal),
    )
