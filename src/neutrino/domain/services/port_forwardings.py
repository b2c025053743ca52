"""Floating IP port forwardings: ``/v2.0/floatingips/{id}/port_forwardings``.

A forwarding belongs to its floating IP (whoever may see the floating IP manages its
forwardings, as Neutron's ``admin_or_parent_owner`` rule says). Only a "free" floating IP takes
forwardings: one associated with a port refuses them (409 FloatingIPPortAlreadyAssociated), and
a port that has a floating IP of its own cannot be a forwarding's target (409
PortHasBindingFloatingIP). The first forwarding sets the floating IP's ``router_id`` to the
router linking the internal subnet to the floating network, later ones must reach the same
router, and removing the last one clears it again. Port checks are pure
(domain/l3/port_forwarding.py); everything runs in one transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.config import DomainConfig
from neutrino.domain.context import Context
from neutrino.domain.l3 import port_forwarding as pf_rules
from neutrino.domain.listing import ListQuery, apply_filters, apply_order_and_page
from neutrino.domain.models import FloatingIP, Port, PortForwarding
from neutrino.domain.services import floatingips, ports

COLUMNS = {
    "id": PortForwarding.id,
    "protocol": PortForwarding.protocol,
    "internal_port_id": PortForwarding.internal_port_id,
    "internal_ip_address": PortForwarding.internal_ip_address,
    "description": PortForwarding.description,
    "external_port": PortForwarding.external_port_start,
    "internal_port": PortForwarding.internal_port_start,
}
RANGE_FILTERS = {
    "external_port_range": (PortForwarding.external_port_start, PortForwarding.external_port_end),
}


def _bad(msg: str) -> errors.BadRequest:
    return errors.BadRequest(resource=pf_rules.RESOURCE, msg=msg)


def _ranges(pf: PortForwarding) -> tuple[pf_rules.Range, pf_rules.Range]:
    return (pf.external_port_start, pf.external_port_end), (pf.internal_port_start, pf.internal_port_end)


def get(session: Session, ctx: Context, floatingip_id: str, pf_id: str) -> PortForwarding:
    floatingips.get(session, ctx, floatingip_id)
    pf = session.get(PortForwarding, pf_id)
    if pf is None or pf.floatingip_id != floatingip_id:
        raise errors.PortForwardingNotFound(id=pf_id)
    return pf


def list_(session: Session, ctx: Context, floatingip_id: str, q: ListQuery) -> list[PortForwarding]:
    floatingips.get(session, ctx, floatingip_id)
    stmt = select(PortForwarding).where(PortForwarding.floatingip_id == floatingip_id)
    for name, (start, end) in RANGE_FILTERS.items():
        for value in q.filters.pop(name, []):
            first, last = pf_rules.parse_range(value)
            stmt = stmt.where(start == first, end == last)
    stmt = apply_filters(stmt, PortForwarding, q, COLUMNS)
    stmt = apply_order_and_page(session, stmt, PortForwarding, q, COLUMNS)
    return list(session.scalars(stmt))


def _check_no_floating_ip_on(session: Session, port_id: str, internal_ip: str) -> None:
    bound = session.scalars(select(FloatingIP).where(FloatingIP.fixed_port_id == port_id).limit(1)).first()
    if bound is not None:
        raise errors.PortHasBindingFloatingIP(
            floating_ip_address=bound.floating_ip_address, fip_id=bound.id, port_id=port_id, fixed_ip=internal_ip
        )


def _router_for(session: Session, fip: FloatingIP, port: Port, subnet_id: str) -> str:
    """The router reaching the internal subnet from the floating network; a floating IP already
    serving forwardings through another router refuses (Neutron's ``_check_router_match``)."""
    try:
        router_id = floatingips.router_for(session, port, subnet_id, fip.floating_network_id)
    except errors.ExternalGatewayForFloatingIPNotFound:
        raise _bad(
            f"External network {fip.floating_network_id} is not reachable from subnet {subnet_id}. "
            f"Cannot set Port forwarding for port {port.id} with Floating IP {fip.id}"
        ) from None
    if fip.router_id and fip.router_id != router_id:
        raise _bad(
            f"The Floating IP {fip.id} had been set on router {fip.router_id}, the internal Neutron "
            f"port {port.id} can not reach it"
        )
    return router_id


def _check_collisions(session: Session, pf: PortForwarding, own_id: str | None) -> None:
    external, internal = _ranges(pf)
    pf_rules.check_relation(external, internal)
    same_fip = session.scalars(
        select(PortForwarding).where(
            PortForwarding.floatingip_id == pf.floatingip_id, PortForwarding.protocol == pf.protocol
        )
    )
    pf_rules.check_collisions(
        external, [(o.id, _ranges(o)[0]) for o in same_fip], "external_port_range", own_id
    )
    same_socket = session.scalars(
        select(PortForwarding).where(
            PortForwarding.internal_port_id == pf.internal_port_id,
            PortForwarding.internal_ip_address == pf.internal_ip_address,
            PortForwarding.protocol == pf.protocol,
        )
    )
    pf_rules.check_collisions(
        internal, [(o.id, _ranges(o)[1]) for o in same_socket], "internal_port_range", own_id
    )


def _port_ips(port: Port) -> list[tuple[str, str]]:
    return [(a.subnet_id, a.ip_address) for a in port.fixed_ips]


def create(session: Session, ctx: Context, cfg: DomainConfig, floatingip_id: str, data: dict[str, Any]) -> PortForwarding:
    fip = floatingips.get(session, ctx, floatingip_id)
    ctx.require_write("create_floatingip_port_forwarding")
    external, internal = pf_rules.resolve_ranges(
        data.get("external_port"), data.get("external_port_range"),
        data.get("internal_port"), data.get("internal_port_range"),
    )
    port = ports.get(session, ctx, data["internal_port_id"])
    subnet_id, internal_ip = pf_rules.internal_address(port.id, _port_ips(port), data.get("internal_ip_address"))
    pf = PortForwarding(
        floatingip_id=fip.id,
        internal_port_id=port.id,
        protocol=data["protocol"],
        internal_ip_address=internal_ip,
        external_port_start=external[0],
        external_port_end=external[1],
        internal_port_start=internal[0],
        internal_port_end=internal[1],
        description=data.get("description") or "",
    )
    _check_collisions(session, pf, None)
    _check_no_floating_ip_on(session, port.id, internal_ip)
    if fip.fixed_port_id:
        raise errors.FloatingIPPortAlreadyAssociated(
            port_id=port.id, fip_id=fip.id, floating_ip_address=fip.floating_ip_address,
            fixed_ip=internal_ip, net_id=fip.floating_network_id,
        )
    router_id = _router_for(session, fip, port, subnet_id)
    if fip.router_id != router_id:
        fip.router_id = router_id
    fip.bump_revision()
    session.add(pf)
    session.flush()
    return pf


def update(
    session: Session, ctx: Context, cfg: DomainConfig, floatingip_id: str, pf_id: str, data: dict[str, Any]
) -> PortForwarding:
    pf = get(session, ctx, floatingip_id, pf_id)
    ctx.require_write("update_floatingip_port_forwarding")
    fip = session.get(FloatingIP, floatingip_id)
    assert fip is not None
    new_port_id = data.get("internal_port_id")
    if new_port_id:
        port = ports.get(session, ctx, new_port_id)
    else:
        port = ports.get(session, ctx, pf.internal_port_id)
    old_external, old_internal = _ranges(pf)
    external_given = data.get("external_port") is not None or data.get("external_port_range") is not None
    internal_given = data.get("internal_port") is not None or data.get("internal_port_range") is not None
    external, internal = pf_rules.resolve_ranges(
        data.get("external_port") if external_given else None,
        data.get("external_port_range") if external_given else pf_rules.range_text(old_external),
        data.get("internal_port") if internal_given else None,
        data.get("internal_port_range") if internal_given else pf_rules.range_text(old_internal),
    )
    internal_ip = data.get("internal_ip_address") or pf.internal_ip_address
    if new_port_id and new_port_id != pf.internal_port_id:
        _check_no_floating_ip_on(session, port.id, internal_ip)
        if not data.get("internal_ip_address"):
            internal_ip = pf_rules.internal_address(port.id, _port_ips(port), None)[1]
        subnet_id = pf_rules.internal_address(port.id, _port_ips(port), internal_ip)[0]
        fip.router_id = _router_for(session, fip, port, subnet_id)
    if internal_ip not in {ip for _, ip in _port_ips(port)}:
        listed = [{"subnet_id": s, "ip_address": ip} for s, ip in _port_ips(port)]
        raise _bad(
            "The internal IP does not correspond to an address on the internal port, which has "
            f"fixed_ips {listed}"
        )
    pf.internal_port_id = port.id
    pf.internal_ip_address = internal_ip
    pf.protocol = data.get("protocol") or pf.protocol
    pf.external_port_start, pf.external_port_end = external
    pf.internal_port_start, pf.internal_port_end = internal
    if "description" in data:
        pf.description = data["description"] or ""
    _check_collisions(session, pf, pf.id)
    pf.bump_revision()
    session.flush()
    return pf


def _release_router_if_last(session: Session, fip: FloatingIP, leaving: set[str]) -> None:
    others = session.scalar(
        select(PortForwarding.id).where(
            PortForwarding.floatingip_id == fip.id, PortForwarding.id.not_in(leaving)
        ).limit(1)
    )
    if others is None and fip.fixed_port_id is None and fip.router_id is not None:
        fip.router_id = None
        fip.bump_revision()


def delete(session: Session, ctx: Context, cfg: DomainConfig, floatingip_id: str, pf_id: str) -> None:
    pf = get(session, ctx, floatingip_id, pf_id)
    ctx.require_write("delete_floatingip_port_forwarding")
    fip = session.get(FloatingIP, floatingip_id)
    assert fip is not None
    _release_router_if_last(session, fip, {pf.id})
    session.delete(pf)
    session.flush()


def remove_for_port(session: Session, port_id: str, keep_ips: set[str] | None = None) -> None:
    """A port going away (or losing addresses) takes its forwardings with it, and a floating IP
    left without forwardings loses its router, as Neutron's port callbacks do."""
    doomed = [
        pf
        for pf in session.scalars(select(PortForwarding).where(PortForwarding.internal_port_id == port_id))
        if keep_ips is None or pf.internal_ip_address not in keep_ips
    ]
    by_fip: dict[str, set[str]] = {}
    for pf in doomed:
        by_fip.setdefault(pf.floatingip_id, set()).add(pf.id)
    for fip_id, ids in sorted(by_fip.items()):
        fip = session.get(FloatingIP, fip_id)
        if fip is not None:
            _release_router_if_last(session, fip, ids)
    for pf in doomed:
        session.delete(pf)
    session.flush()


def render(pfs: list[PortForwarding]) -> list[dict[str, Any]]:
    out = []
    for pf in pfs:
        ports_shown = pf_rules.shown(*_ranges(pf))
        out.append(
            {
                "id": pf.id,
                "protocol": pf.protocol,
                "internal_ip_address": pf.internal_ip_address,
                "internal_port_id": pf.internal_port_id,
                "internal_port": ports_shown.internal_port,
                "external_port": ports_shown.external_port,
                "internal_port_range": ports_shown.internal_port_range,
                "external_port_range": ports_shown.external_port_range,
                "description": pf.description,
            }
        )
    return out
