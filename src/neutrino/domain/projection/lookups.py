"""Lookups every part of the projection shares: segments, fixed IPs, and the constants
that decide what counts as bound, tunnelled or a router interface."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.contract.desired import FixedIP, Segment
from neutrino.domain.models import (
    IPAllocation,
    Network,
    NetworkSegment,
    Subnet,
)

TUNNEL_TYPES = frozenset({"vxlan", "geneve", "gre"})
UNBOUND = ("unbound", "binding_failed")
INTERFACE_OWNERS = (
    "network:router_interface", "network:router_interface_distributed", "network:ha_router_replicated_interface",
)


def segments_of(session: Session, network_ids: Iterable[str]) -> dict[str, Segment]:
    """The first (static) segment of each network, with the network's MTU."""
    ids = list(set(network_ids))
    if not ids:
        return {}
    mtus = dict(session.execute(select(Network.id, Network.mtu).where(Network.id.in_(ids))).all())
    out: dict[str, Segment] = {}
    rows = session.execute(
        select(NetworkSegment)
        .where(NetworkSegment.network_id.in_(ids), NetworkSegment.is_dynamic.is_(False))
        .order_by(NetworkSegment.network_id, NetworkSegment.segment_index)
    ).scalars()
    for seg in rows:
        out.setdefault(
            seg.network_id,
            Segment(seg.network_type, seg.physical_network, seg.segmentation_id, mtus.get(seg.network_id, 1500)),
        )
    return out


def segments_by_id(session: Session, segment_ids: Iterable[str]) -> dict[str, NetworkSegment]:
    ids = [s for s in set(segment_ids) if s]
    if not ids:
        return {}
    return {s.id: s for s in session.scalars(select(NetworkSegment).where(NetworkSegment.id.in_(ids)))}


def fixed_ips_of(session: Session, port_ids: Iterable[str]) -> dict[str, tuple[FixedIP, ...]]:
    ids = list(port_ids)
    out: dict[str, list[FixedIP]] = defaultdict(list)
    if ids:
        rows = session.execute(
            select(IPAllocation.port_id, IPAllocation.subnet_id, IPAllocation.ip_address, Subnet.cidr, Subnet.gateway_ip)
            .join(Subnet, Subnet.id == IPAllocation.subnet_id)
            .where(IPAllocation.port_id.in_(ids))
            .order_by(IPAllocation.port_id, IPAllocation.position)
        )
        for port_id, subnet_id, ip, cidr, gw in rows:
            out[port_id].append(FixedIP(subnet_id, ip, cidr, gw))
    return {k: tuple(v) for k, v in out.items()}
