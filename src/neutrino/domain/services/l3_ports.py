"""The ports L3 owns: router interfaces, router gateways and floating IP ports.

Why not ``ports.create``: these ports are made on the service's behalf, as Neutron's L3 plugin
does with an elevated context. They are not checked against (nor counted into) the caller's
port quota or network visibility: a gateway or floating IP port belongs to no project (``''``)
and lives on an external network the caller may not own. The port extensions (security groups,
bindings, ...) still run, so these ports look like any other to the rest of the system.

``L3PortGuard`` is the port extension that keeps the port API from deleting them behind the
router's back (Neutron's ``prevent_l3_port_deletion``) and that disassociates the floating IPs
of a port being deleted.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, exists, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from neutrino import errors
from neutrino.domain.context import Context
from neutrino.domain.ipam import allocator, mac as macs
from neutrino.domain.l3.rules import SubnetRef
from neutrino.domain.models import FloatingIP, HaRouter, IPAllocation, Port, Router, RouterPort, Subnet
from neutrino.domain.models.base import new_id, utcnow
from neutrino.domain.services import common, extensions, ports
from neutrino.domain.config import DomainConfig
from neutrino.domain.wiring import Domain

ROUTER_INTERFACE = "network:router_interface"
HA_REPLICATED_INTERFACE = "network:ha_router_replicated_interface"
ROUTER_GATEWAY = "network:router_gateway"
FLOATINGIP = "network:floatingip"
INTERFACE_OWNERS = frozenset({ROUTER_INTERFACE, HA_REPLICATED_INTERFACE})
HA_INTERFACE = "network:router_ha_interface"
L3_OWNERS = INTERFACE_OWNERS | {ROUTER_GATEWAY, FLOATINGIP, HA_INTERFACE}

def interface_owner(session: Session, router_id: str) -> str:
    """The device_owner of a router's interfaces: HA routers' are "replicated" (Neutron's
    ``_get_device_owner``)."""
    ha = session.scalar(select(HaRouter.router_id).where(HaRouter.router_id == router_id))
    return HA_REPLICATED_INTERFACE if ha is not None else ROUTER_INTERFACE


def migrate_interfaces(session: Session, cfg: Domain, router_id: str, owner: str) -> None:
    """Give a router's interfaces ``owner`` (its ``ha`` changed): ports and router_ports rows."""
    links = session.scalars(
        select(RouterPort).where(RouterPort.router_id == router_id, RouterPort.port_type.in_(INTERFACE_OWNERS))
    ).all()
    for link in links:
        if link.port_type != owner:
            link.port_type = owner
            update_port(session, cfg, link.port_id, {"device_owner": owner})


def _service_context(project_id: str) -> Context:
    return Context.admin(project_id or None)


def create_port(
    session: Session,
    cfg: Domain,
    *,
    network_id: str,
    project_id: str,
    device_owner: str,
    device_id: str,
    fixed_ips: list[dict[str, str]] | None = None,
    status: str = "DOWN",
) -> Port:
    """A port for the L3 service: addresses by the normal IPAM rules (``fixed_ips`` None means
    "choose"), then the port extensions' ``after_create`` with an admin context."""
    mac = macs.random_mac(cfg.base_mac)
    requested = None if fixed_ips is None else [
        allocator.Request(f.get("subnet_id"), f.get("ip_address")) for f in fixed_ips
    ]
    pairs = allocator.allocate(
        session,
        network_id=network_id,
        subnets=allocator.load_subnets(session, network_id),
        requested=requested,
        mac=mac,
        device_owner=device_owner,
    )
    now = utcnow()
    port = Port(
        id=new_id(),
        project_id=project_id,
        network_id=network_id,
        name="",
        description="",
        mac_address=mac,
        admin_state_up=True,
        status=status,
        device_id=device_id,
        device_owner=device_owner,
        created_at=now,
        updated_at=now,
        revision_number=0,
    )
    port.fixed_ips = [
        IPAllocation(subnet_id=s, ip_address=ip, network_id=network_id, position=i)
        for i, (s, ip) in enumerate(pairs)
    ]
    session.add(port)
    session.flush()
    data = {"network_id": network_id, "device_owner": device_owner, "device_id": device_id}
    extensions.after_create(cfg.port_extensions, session, _service_context(project_id), cfg, port, data)
    session.flush()
    return port


def update_port(session: Session, cfg: Domain, port_id: str, changes: dict[str, Any]) -> Port:
    """Change an L3 port through the port service (so extensions and revisions follow)."""
    port = session.get(Port, port_id)
    project = port.project_id if port is not None else ""
    return ports.update(session, _service_context(project), cfg, port_id, changes)


def delete_port(session: Session, cfg: Domain, port_id: str) -> None:
    """Delete an L3 port: every port extension's ``before_delete`` except the guard's refusal."""
    port = session.get(Port, port_id)
    if port is None:
        return
    ctx = _service_context(port.project_id)
    others = [e for e in cfg.port_extensions if not isinstance(e, L3PortGuard)]
    extensions.before_delete(others, session, ctx, cfg, port)
    disassociate_floatingips(session, port_id)
    common.delete_tags(session, port_id)
    session.delete(port)
    session.flush()


def disassociate_floatingips(session: Session, port_id: str) -> None:
    """Floating IPs pointing at a port that goes away lose their association (Neutron's
    ``disassociate_floatingips``), with a revision bump."""
    for fip in session.scalars(select(FloatingIP).where(FloatingIP.fixed_port_id == port_id)):
        fip.fixed_port_id = None
        fip.fixed_ip_address = None
        fip.router_id = None
        fip.bump_revision()
    session.flush()


def port_ips(session: Session, port_id: str) -> list[tuple[str, str]]:
    """(subnet_id, ip_address) of a port, in the port's order."""
    rows = session.execute(
        select(IPAllocation.subnet_id, IPAllocation.ip_address)
        .where(IPAllocation.port_id == port_id)
        .order_by(IPAllocation.position)
    )
    return [(s, ip) for s, ip in rows]


def router_subnets(session: Session, router_id: str) -> list[tuple[str, SubnetRef]]:
    """(port_type, subnet) for every address of every port of the router."""
    rows = session.execute(
        select(RouterPort.port_type, Subnet.id, Subnet.cidr)
        .join(IPAllocation, IPAllocation.port_id == RouterPort.port_id)
        .join(Subnet, Subnet.id == IPAllocation.subnet_id)
        .where(RouterPort.router_id == router_id)
    )
    return [(kind, SubnetRef(sid, cidr)) for kind, sid, cidr in rows]


class L3PortGuard(extensions.Extension):
    """DELETE /v2.0/ports/{id} of a router or floating IP port is refused (409
    ServicePortInUse) while its router or floating IP exists and the port has addresses; any
    other port loses its floating IP associations as it goes."""

    name = "l3-port-guard"

    def delete_probe(self, table: Table) -> ColumnElement[bool]:
        # the owners as plain bound values: an IN list of literals would expand at each execution
        owners = [literal(o) for o in sorted(L3_OWNERS)]
        return or_(table.c.device_owner.in_(owners), exists().where(FloatingIP.fixed_port_id == table.c.id))

    def before_delete(self, session: Session, ctx: Context, cfg: Domain, obj: Any) -> None:
        # row-locked (PostgreSQL): a floating IP being associated with this port right now
        # (its foreign key check share-locks the port) either commits first and is
        # disassociated below, or fails its check once the port is gone
        found = session.execute(
            select(Port.device_owner, Port.device_id).where(Port.id == obj.id).with_for_update()
        ).first()
        if found is None:
            return
        owner, device_id = found
        if owner in L3_OWNERS and port_ips(session, obj.id):
            model = FloatingIP if owner == FLOATINGIP else Router
            if session.scalar(select(model.id).where(model.id == device_id)) is not None:
                raise errors.ServicePortInUse(port_id=obj.id, reason=f"has device owner {owner}")
        disassociate_floatingips(session, obj.id)
