"""The bound ports of a host with their security: rules per group, and the members of the
remote groups those rules name."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

from sqlalchemy import or_, select, union_all
from sqlalchemy.orm import Session

from neutrino.contract.desired import BoundPort, SecurityRule, Segment
from neutrino.domain.models import (
    AddressGroupAddress,
    AllowedAddressPair,
    IPAllocation,
    Port,
    PortBinding,
    PortBindingLevel,
    SecurityGroupPortBinding,
    SecurityGroupRule,
)
from neutrino.domain.projection.ha import shared_port_ids
from neutrino.domain.projection.qos import qos_of
from neutrino.domain.scheduling.dhcp import DHCP_OWNER
from neutrino.domain.projection.lookups import segments_of, segments_by_id, fixed_ips_of, UNBOUND


def bound_ports(session: Session, host: str, only: Collection[str] | None = None) -> list[BoundPort]:
    """Ports bound to ``host``, and the ports of the HA routers it hosts wherever they are
    bound (projection/ha.py); of those, only the ports ``only`` names when it is given."""
    shared = shared_port_ids(session, host)
    here = PortBinding.host == host
    query = (
        select(Port, PortBinding.vif_type)
        .join(PortBinding, PortBinding.port_id == Port.id)
        .where(or_(here, Port.id.in_(shared)) if shared else here, PortBinding.vif_type.notin_(UNBOUND))
    )
    if only is not None:
        query = query.where(Port.id.in_(sorted(only)))
    rows = session.execute(query).all()
    if not rows:
        return []
    port_ids = [p.id for p, _ in rows]
    level_here = PortBindingLevel.host == host
    levels = dict(
        session.execute(
            select(PortBindingLevel.port_id, PortBindingLevel.segment_id)
            .where(PortBindingLevel.port_id.in_(port_ids),
                   or_(level_here, PortBindingLevel.port_id.in_(shared)) if shared else level_here)
            .order_by(PortBindingLevel.level)
        ).all()
    )
    bound_segments = segments_by_id(session, levels.values())
    network_segments = segments_of(session, [p.network_id for p, _ in rows])
    ips = fixed_ips_of(session, port_ids)
    groups: dict[str, list[str]] = defaultdict(list)
    for port_id, sg_id in session.execute(
        select(SecurityGroupPortBinding.port_id, SecurityGroupPortBinding.security_group_id).where(
            SecurityGroupPortBinding.port_id.in_(port_ids)
        )
    ):
        groups[port_id].append(sg_id)
    rules = group_rules(session, {g for gs in groups.values() for g in gs})
    pairs: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for port_id, ip, mac in session.execute(
        select(AllowedAddressPair.port_id, AllowedAddressPair.ip_address, AllowedAddressPair.mac_address).where(
            AllowedAddressPair.port_id.in_(port_ids)
        )
    ):
        pairs[port_id].append((ip, mac))
    limits = qos_of(session, [(p.id, p.network_id) for p, _ in rows])
    servers = dhcp_servers(session, {p.network_id for p, _ in rows})
    out = []
    for port, vif_type in rows:
        seg_row = bound_segments.get(levels.get(port.id) or "")
        base = network_segments.get(port.network_id)
        segment = (
            Segment(seg_row.network_type, seg_row.physical_network, seg_row.segmentation_id, base.mtu if base else 1500)
            if seg_row is not None
            else base
        )
        sgs = tuple(sorted(groups.get(port.id, [])))
        out.append(
            BoundPort(
                port_id=port.id,
                network_id=port.network_id,
                mac_address=port.mac_address,
                admin_state_up=port.admin_state_up,
                device_owner=port.device_owner,
                device_id=port.device_id,
                vif_type=vif_type,
                segment=segment,
                fixed_ips=ips.get(port.id, ()),
                port_security_enabled=port.port_security_enabled,
                security_groups=sgs,
                rules=tuple(r for g in sgs for r in rules.get(g, ())),
                allowed_address_pairs=tuple(sorted(pairs.get(port.id, []))),
                revision_number=port.revision_number,
                qos=limits.get(port.id),
                dhcp_servers=servers.get(port.network_id, ()),
            )
        )
    return out


def dhcp_servers(session: Session, network_ids: set[str]) -> dict[str, tuple[tuple[str, str], ...]]:
    """Network id -> (address, MAC) of each of its DHCP ports' fixed IPs, sorted."""
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    if network_ids:
        for network_id, ip, mac in session.execute(
            select(Port.network_id, IPAllocation.ip_address, Port.mac_address)
            .join(IPAllocation, IPAllocation.port_id == Port.id)
            .where(Port.network_id.in_(network_ids), Port.device_owner == DHCP_OWNER)
        ):
            out[network_id].append((ip, mac.lower()))
    return {k: tuple(sorted(v)) for k, v in out.items()}


def group_rules(session: Session, group_ids: set[str]) -> dict[str, tuple[SecurityRule, ...]]:
    """The rules of each group, ordered by id (as a port's ``rules`` list them, group by group)."""
    if not group_ids:
        return {}
    rows = list(
        session.scalars(
            select(SecurityGroupRule)
            .where(SecurityGroupRule.security_group_id.in_(group_ids))
            .order_by(SecurityGroupRule.security_group_id, SecurityGroupRule.id)
        )
    )
    out: dict[str, list[SecurityRule]] = defaultdict(list)
    for r in rows:
        # a remote group's members are listed once per host (remote_groups), not per rule
        remote_set = r.remote_group_id or r.remote_address_group_id
        prefixes = (r.remote_ip_prefix,) if r.remote_ip_prefix and not remote_set else ()
        out[r.security_group_id].append(
            SecurityRule(
                security_group_id=r.security_group_id,
                direction=r.direction,
                ethertype=r.ethertype,
                protocol=r.protocol,
                port_range_min=r.port_range_min,
                port_range_max=r.port_range_max,
                remote_ip_prefixes=prefixes,
                remote_group_id=r.remote_group_id,
                remote_address_group_id=r.remote_address_group_id,
            )
        )
    return {k: tuple(v) for k, v in out.items()}


def address_group_members(session: Session, group_ids: set[str]) -> dict[str, set[str]]:
    """The CIDRs of each address group."""
    out: dict[str, set[str]] = defaultdict(set)
    if group_ids:
        for gid, address in session.execute(
            select(AddressGroupAddress.address_group_id, AddressGroupAddress.address).where(
                AddressGroupAddress.address_group_id.in_(group_ids)
            )
        ):
            out[gid].add(address)
    return out


def group_members(session: Session, group_ids: set[str]) -> dict[str, set[str]]:
    """Addresses of every port in each group: fixed IPs and allowed-address-pair addresses.

    One statement joining from the groups (a group of 500 members used to cost three, the
    last two with IN lists of its 500 port ids: 500 bound parameters, and a new SQL text for
    every member count); every host whose rules name a group asks for it after a change."""
    out: dict[str, set[str]] = defaultdict(set)
    if not group_ids:
        return out
    ids = sorted(group_ids)
    member = SecurityGroupPortBinding
    rows = session.execute(union_all(
        select(member.security_group_id, IPAllocation.ip_address)
        .join(IPAllocation, IPAllocation.port_id == member.port_id).where(member.security_group_id.in_(ids)),
        select(member.security_group_id, AllowedAddressPair.ip_address)
        .join(AllowedAddressPair, AllowedAddressPair.port_id == member.port_id).where(member.security_group_id.in_(ids)),
    ))  # fmt: skip
    for sg, ip in rows:
        out[sg].add(ip)
    return out
    member_ports = session.execute(
        select(SecurityGroupPortBinding.security_group_id, SecurityGroupPortBinding.port_id).where(
            SecurityGroupPortBinding.security_group_id.in_(group_ids)
        )
    ).all()
    by_port: dict[str, list[str]] = defaultdict(list)
    for sg, port in member_ports:
        by_port[port].append(sg)
    if not by_port:
        return out
    for port_id, ip in session.execute(
        select(IPAllocation.port_id, IPAllocation.ip_address).where(IPAllocation.port_id.in_(list(by_port)))
    ):
        for sg in by_port[port_id]:
            out[sg].add(ip)
    for port_id, ip in session.execute(
        select(AllowedAddressPair.port_id, AllowedAddressPair.ip_address).where(
            AllowedAddressPair.port_id.in_(list(by_port))
        )
    ):
        for sg in by_port[port_id]:
            out[sg].add(ip)
    return out
