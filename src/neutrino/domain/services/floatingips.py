"""Floating IPs: an address of an external network, optionally mapped to a port's fixed IPv4.

The address is held by a hidden port (owner ``network:floatingip``, device_id the floating IP,
project ``''``, status ``N/A``). Associating finds the router that links the fixed IP's subnet
to the floating network (an interface on the subnet and the gateway on that network); with none,
404 ExternalGatewayForFloatingIPNotFound, as in Neutron. Status is DOWN until an L3 agent
reports otherwise. An update without attributes (``{"floatingip": {}}``) disassociates, as
``port_id: null`` does. A floating IP shows its port's details (``fip-port-details``) and its
port forwardings (services/port_forwardings.py), and one with forwardings is neither associated
nor deleted (409). Everything happens in one transaction: a refused association leaves no
floating IP and no port behind.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from neutrino import errors
from neutrino.domain.context import Context
from neutrino.domain.l3 import rules
from neutrino.domain.listing import ListQuery, apply_filters, apply_order_and_page
from neutrino.domain.models import (
    FloatingIP,
    IPAllocation,
    Network,
    Port,
    PortForwarding,
    Router,
    RouterPort,
    Subnet,
)
from neutrino.domain.models.base import new_id
from neutrino.domain.services import common, l3_ports, networks, ports
from neutrino.domain.config import DomainConfig

COLUMNS = {
    "id": FloatingIP.id,
    "project_id": FloatingIP.project_id,
    "description": FloatingIP.description,
    "floating_ip_address": FloatingIP.floating_ip_address,
    "floating_network_id": FloatingIP.floating_network_id,
    "router_id": FloatingIP.router_id,
    "port_id": FloatingIP.fixed_port_id,
    "fixed_ip_address": FloatingIP.fixed_ip_address,
    "status": FloatingIP.status,
    "revision_number": FloatingIP.revision_number,
    "created_at": FloatingIP.created_at,
    "updated_at": FloatingIP.updated_at,
}


def _bad(msg: str) -> errors.BadRequest:
    return errors.BadRequest(resource="floatingip", msg=msg)


def get(session: Session, ctx: Context, floatingip_id: str) -> FloatingIP:
    fip = session.get(FloatingIP, floatingip_id)
    if fip is None or not ctx.owns(fip.project_id):
        raise errors.FloatingIPNotFound(floatingip_id=floatingip_id)
    return fip


def _get_for_write(session: Session, ctx: Context, floatingip_id: str, action: str) -> FloatingIP:
    fip = get(session, ctx, floatingip_id)
    ctx.require_write(action)
    return fip


def list_(session: Session, ctx: Context, cfg: DomainConfig, q: ListQuery) -> list[FloatingIP]:
    stmt = select(FloatingIP)
    if not ctx.is_admin:
        stmt = stmt.where(FloatingIP.project_id == ctx.project_id)
    stmt = apply_filters(stmt, FloatingIP, q, COLUMNS)
    stmt = apply_order_and_page(session, stmt, FloatingIP, q, COLUMNS)
    return list(session.scalars(stmt))


def _floating_network(session: Session, ctx: Context, network_id: str) -> None:
    net = session.get(Network, network_id)
    # an external network no policy opens to the caller is not found (as in Neutron); an
    # unknown or internal one is not a valid external network (400)
    if net is not None and net.router_external and not networks.visible_to(session, ctx, net):
        raise errors.NetworkNotFound(net_id=network_id)
    if net is None or not net.router_external:
        raise _bad(f"Network {network_id} is not a valid external network")
    v4 = session.scalar(select(Subnet.id).where(Subnet.network_id == network_id, Subnet.ip_version == 4).limit(1))
    if v4 is None:
        raise _bad(f"Network {network_id} does not contain any IPv4 subnet")


def router_for(session: Session, port: Port, subnet_id: str, network_id: str) -> str:
    """The router linking ``subnet_id`` (where the port's address is) to the floating network."""
    gw = aliased(Port)
    candidates = (
        select(RouterPort.router_id, IPAllocation.ip_address)
        .join(Port, Port.id == RouterPort.port_id)
        .join(IPAllocation, IPAllocation.port_id == Port.id)
        .join(Router, Router.id == RouterPort.router_id)
        .join(gw, gw.id == Router.gw_port_id)
        .where(
            Port.network_id == port.network_id,
            RouterPort.port_type.in_(l3_ports.INTERFACE_OWNERS),
            IPAllocation.subnet_id == subnet_id,
            gw.network_id == network_id,
        )
        .distinct()
    )
    rows = session.execute(candidates).all()
    if rows and session.get_bind().dialect.name == "postgresql":
        # share-lock the candidates, then look again: an interface or gateway removal holding
        # the router's row lock has either committed (and is seen now) or waits for us
        ids = sorted({r for r, _ in rows})
        session.execute(select(Router.id).where(Router.id.in_(ids)).order_by(Router.id).with_for_update(read=True))
        rows = session.execute(candidates).all()
    gateway_ip = session.scalar(select(Subnet.gateway_ip).where(Subnet.id == subnet_id))
    router_id = rules.choose_fip_router([(r, ip) for r, ip in rows], gateway_ip)
    if router_id is None:
        raise errors.ExternalGatewayForFloatingIPNotFound(
            external_network_id=network_id, subnet_id=subnet_id, port_id=port.id
        )
    return router_id


def _association(
    session: Session, ctx: Context, fip: FloatingIP, port_id: str | None, fixed_ip_address: str | None
) -> tuple[str | None, str | None, str | None]:
    """(fixed_port_id, fixed_ip_address, router_id) for the requested association."""
    if fixed_ip_address and not port_id:
        raise _bad("fixed_ip_address cannot be specified without a port_id")
    if not port_id:
        return None, None, None
    port = ports.get(session, ctx, port_id)
    if port.project_id != fip.project_id and not ctx.is_admin:
        raise _bad(
            f"Cannot process floating IP association with Port {port_id}, since that port is "
            "owned by a different tenant"
        )
    subnet_id, ip = rules.fip_fixed_address(
        port.id, [(a.subnet_id, a.ip_address) for a in port.fixed_ips], fixed_ip_address
    )
    router_id = router_for(session, port, subnet_id, fip.floating_network_id)
    taken = session.scalar(
        select(FloatingIP.id).where(
            FloatingIP.fixed_port_id == port.id,
            FloatingIP.floating_network_id == fip.floating_network_id,
            FloatingIP.fixed_ip_address == ip,
            FloatingIP.id != fip.id,
        )
    )
    if taken is not None:
        raise errors.FloatingIPPortAlreadyAssociated(
            port_id=port.id,
            fip_id=fip.id,
            floating_ip_address=fip.floating_ip_address,
            fixed_ip=ip,
            net_id=fip.floating_network_id,
        )
    return port.id, ip, router_id


def _set_association(fip: FloatingIP, assoc: tuple[str | None, str | None, str | None]) -> bool:
    current = (fip.fixed_port_id, fip.fixed_ip_address, fip.router_id)
    if current == assoc:
        return False
    fip.fixed_port_id, fip.fixed_ip_address, fip.router_id = assoc
    return True


def create(session: Session, ctx: Context, cfg: DomainConfig, data: dict[str, Any]) -> FloatingIP:
    ctx.require_write("create_floatingip")
    common.enforce_quota(session, cfg, data["project_id"], "floatingip", FloatingIP)
    network_id = data["floating_network_id"]
    _floating_network(session, ctx, network_id)
    if data.get("fixed_ip_address") and not data.get("port_id"):
        raise _bad("fixed_ip_address cannot be specified without a port_id")
    wanted: dict[str, str] = {}
    if data.get("subnet_id"):
        wanted["subnet_id"] = data["subnet_id"]
    if data.get("floating_ip_address"):
        wanted["ip_address"] = data["floating_ip_address"]
    fip_id = new_id()
    try:
        port = l3_ports.create_port(
            session,
            cfg,
            network_id=network_id,
            project_id="",
            device_owner=l3_ports.FLOATINGIP,
            device_id=fip_id,
            fixed_ips=[wanted] if wanted else None,
            status="N/A",
        )
    except errors.IpAddressGenerationFailure:
        raise errors.ExternalIpAddressExhausted(net_id=network_id) from None
    v4 = [a.ip_address for a in port.fixed_ips if ipaddress.ip_address(a.ip_address).version == 4]
    if not v4:
        raise errors.ExternalIpAddressExhausted(net_id=network_id)
    fip = FloatingIP(
        id=fip_id,
        project_id=data["project_id"],
        description=data.get("description", ""),
        floating_ip_address=v4[0],
        floating_network_id=network_id,
        floating_port_id=port.id,
        status="DOWN",
    )
    _set_association(fip, _association(session, ctx, fip, data.get("port_id"), data.get("fixed_ip_address")))
    session.add(fip)
    session.flush()
    return fip


def update(
    session: Session, ctx: Context, cfg: DomainConfig, floatingip_id: str, data: dict[str, Any],
    if_match: int | None = None,
) -> FloatingIP:
    fip = _get_for_write(session, ctx, floatingip_id, "update_floatingip")
    common.check_revision(fip, if_match)
    changed = False
    if data.get("port_id") and _has_port_forwardings(session, fip.id):
        raise errors.FipInUseByPortForwarding(id=fip.id)
    if not data or "port_id" in data:
        # an empty update disassociates, as in Neutron (its l3_db, bug 1610045)
        assoc = _association(session, ctx, fip, data.get("port_id"), data.get("fixed_ip_address"))
        changed = _set_association(fip, assoc)
    elif data.get("fixed_ip_address"):
        raise _bad("fixed_ip_address cannot be specified without a port_id")
    changed = common.apply_updates(fip, data, ("description",)) or changed
    if changed:
        fip.bump_revision()
    session.flush()
    return fip


def delete(
    session: Session, ctx: Context, cfg: DomainConfig, floatingip_id: str, if_match: int | None = None
) -> None:
    fip = _get_for_write(session, ctx, floatingip_id, "delete_floatingip")
    common.check_revision(fip, if_match)
    if _has_port_forwardings(session, fip.id):
        raise errors.FipInUseByPortForwarding(id=fip.id)
    port_id = fip.floating_port_id
    common.delete_tags(session, fip.id)
    session.delete(fip)
    session.flush()
    l3_ports.delete_port(session, cfg, port_id)


def _has_port_forwardings(session: Session, floatingip_id: str) -> bool:
    """A floating IP serving port forwardings is neither associated nor deleted (409, Neutron's
    FipInUseByPortForwarding): its forwardings go first."""
    found = select(PortForwarding.id).where(PortForwarding.floatingip_id == floatingip_id).limit(1)
    return session.scalar(found) is not None


PORT_DETAILS = ("name", "network_id", "mac_address", "admin_state_up", "status", "device_id", "device_owner")


def _port_details(session: Session, fips: list[FloatingIP]) -> dict[str, dict[str, Any]]:
    """fip-port-details: a few attributes of each associated port, read in one query."""
    ids = sorted({f.fixed_port_id for f in fips if f.fixed_port_id})
    if not ids:
        return {}
    cols = [getattr(Port, name) for name in PORT_DETAILS]
    rows = session.execute(select(Port.id, *cols).where(Port.id.in_(ids))).all()
    return {row[0]: dict(zip(PORT_DETAILS, row[1:], strict=True)) for row in rows}


def _port_forwardings(session: Session, fips: list[FloatingIP]) -> dict[str, list[dict[str, Any]]]:
    """expose-port-forwarding-in-fip with floating-ip-port-forwarding-detail."""
    ids = [f.id for f in fips]
    out: dict[str, list[dict[str, Any]]] = {}
    if not ids:
        return out
    rows = session.scalars(
        select(PortForwarding).where(PortForwarding.floatingip_id.in_(ids)).order_by(PortForwarding.id)
    )
    for pf in rows:
        out.setdefault(pf.floatingip_id, []).append(
            {
                "id": pf.id,
                "protocol": pf.protocol,
                "internal_ip_address": pf.internal_ip_address,
                "internal_port_id": pf.internal_port_id,
                "internal_port": pf.internal_port_start if pf.internal_port_start == pf.internal_port_end else None,
                "external_port": pf.external_port_start if pf.external_port_start == pf.external_port_end else None,
            }
        )
    return out


def render(session: Session, cfg: DomainConfig, fips: list[FloatingIP], fresh: bool = False) -> list[dict[str, Any]]:
    tags = {} if fresh else common.tags_by_resource(session, [f.id for f in fips])
    details = _port_details(session, fips)
    forwardings = _port_forwardings(session, fips)
    out = []
    for f in fips:
        d = {
            "id": f.id,
            "floating_ip_address": f.floating_ip_address,
            "floating_network_id": f.floating_network_id,
            "router_id": f.router_id,
            "port_id": f.fixed_port_id,
            "fixed_ip_address": f.fixed_ip_address,
            "status": f.status,
            "port_details": details.get(f.fixed_port_id) if f.fixed_port_id else None,
            "port_forwardings": forwardings.get(f.id, []),
            # dns-integration without an external DNS service: nothing is kept (docs/neutron-behaviour.md)
            "dns_name": "",
            "dns_domain": "",
        }
        d.update(common.standard_fields(f, tags.get(f.id, [])))
        out.append(d)
    return out
