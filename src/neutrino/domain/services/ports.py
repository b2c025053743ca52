"""Ports: a MAC unique on the network and fixed IPs chosen by the allocator."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, exists, insert, or_, select
from sqlalchemy import delete as delete_stmt
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.by_ids import ByIds
from neutrino.db.engine import RetryRequest
from neutrino.domain.context import Context
from neutrino.domain.ipam import allocator, mac as macs
from neutrino.domain.listing import ListQuery, apply_filters, apply_order_and_page
from neutrino.domain.models import IPAllocation, Network, Port, PortBinding, Tag
from neutrino.domain.ml2.api import VIF_TYPE_BINDING_FAILED, VIF_TYPE_UNBOUND
from neutrino.domain.models.base import new_id, utcnow
from neutrino.domain.rbac import access
from neutrino.domain.services import common, extensions, networks
from neutrino.domain.services import tags as tag_service
from neutrino.domain.config import DomainConfig
from neutrino.domain.wiring import Domain

PORTS = Port.__table__
IPALLOCATIONS = IPAllocation.__table__
TAGS = Tag.__table__
_NETWORK_OWNER = select(Network.project_id).where(Network.id == bindparam("id"))

COLUMNS = {
    "id": Port.id,
    "name": Port.name,
    "project_id": Port.project_id,
    "description": Port.description,
    "network_id": Port.network_id,
    "mac_address": Port.mac_address,
    "admin_state_up": Port.admin_state_up,
    "status": Port.status,
    "device_id": Port.device_id,
    "device_owner": Port.device_owner,
    "revision_number": Port.revision_number,
    "created_at": Port.created_at,
    "updated_at": Port.updated_at,
}


def _visible_clause(ctx: Context):  # type: ignore[no-untyped-def]
    own_nets = select(Network.id).where(Network.project_id == ctx.project_id)
    return or_(Port.project_id == ctx.project_id, Port.network_id.in_(own_nets))


def get(session: Session, ctx: Context, port_id: str) -> Port:
    port = session.get(Port, port_id)
    if port is None:
        raise errors.PortNotFound(port_id=port_id)
    if not ctx.is_admin and port.project_id != ctx.project_id:
        net = session.get(Network, port.network_id)
        if net is None or net.project_id != ctx.project_id:
            raise errors.PortNotFound(port_id=port_id)
    return port


def list_(session: Session, ctx: Context, cfg: Domain, q: ListQuery) -> list[Port]:
    stmt = select(Port)
    if not ctx.is_admin:
        stmt = stmt.where(_visible_clause(ctx))
    for spec in q.filters.get("fixed_ips", []):
        stmt = stmt.where(Port.id.in_(_fixed_ip_filter(spec)))
    stmt = apply_filters(stmt, Port, q, COLUMNS)
    for clause in extensions.filter_clauses(cfg.port_extensions, q.filters):
        stmt = stmt.where(clause)
    stmt = apply_order_and_page(session, stmt, Port, q, COLUMNS)
    return list(session.scalars(stmt))


def _fixed_ip_filter(spec: Any):  # type: ignore[no-untyped-def]
    """``fixed_ips=ip_address=X`` / ``fixed_ips=subnet_id=Y`` (also ``ip_address_substr``)."""
    stmt = select(IPAllocation.port_id)
    text = str(spec)
    key, _, value = text.partition("=")
    if key == "ip_address":
        return stmt.where(IPAllocation.ip_address == value)
    if key == "subnet_id":
        return stmt.where(IPAllocation.subnet_id == value)
    if key == "ip_address_substr":
        # '%' and '_' match themselves (escaped); addresses are stored lower-case, so the
        # value is too: SQLite's LIKE ignores case, PostgreSQL's does not
        return stmt.where(IPAllocation.ip_address.contains(value.lower(), autoescape=True))
    raise errors.HTTPBadRequest(msg=f"Invalid fixed_ips filter '{text}'")


def _requests(fixed_ips: list[dict[str, str]] | None) -> list[allocator.Request] | None:
    if fixed_ips is None:
        return None
    return [allocator.Request(f.get("subnet_id"), f.get("ip_address")) for f in fixed_ips]


def _choose_mac(session: Session, cfg: Domain, network_id: str, given: str | None) -> str:
    """A requested MAC is checked here (a clear 409); a random one is not: among 2^24 values a
    clash is rare enough that the unique constraint plus transaction retry handles it."""
    if given is None:
        return macs.random_mac(cfg.base_mac)
    if not macs.mac_is_valid_for_port(given):
        raise errors.InvalidInput(error_message=f"{given} is not a valid MAC address")
    taken = session.scalar(select(Port.id).where(Port.network_id == network_id, Port.mac_address == given))
    if taken is not None:
        raise errors.MacAddressInUse(net_id=network_id, mac=given)
    return given


@dataclass
class NewPort:
    """A port just inserted with Core statements: the attributes ``render`` reads."""

    id: str
    project_id: str
    network_id: str
    name: str
    description: str
    mac_address: str
    admin_state_up: bool
    status: str
    device_id: str
    device_owner: str
    created_at: datetime
    updated_at: datetime
    revision_number: int
    fixed_ips: list[IPAllocation]
    tags: list[str] = field(default_factory=list)


def create(session: Session, ctx: Context, cfg: Domain, data: dict[str, Any]) -> NewPort:
    """Port creation is the hottest write path, so it runs as plain Core statements."""
    ctx.require_write("create_port")
    net = networks.fetch(session, ctx, data["network_id"])
    # a port needs the network's owner, an admin, or access_as_shared (external is not enough)
    if not networks.visible_to(session, ctx, net, (access.ACCESS_SHARED,)):
        raise errors.NetworkNotFound(net_id=net.id)
    common.enforce_quota(session, cfg, data["project_id"], "port", Port)
    mac = _choose_mac(session, cfg, net.id, data.get("mac_address"))
    owner = data.get("device_owner", "")
    pairs = allocator.allocate(
        session,
        network_id=net.id,
        subnets=allocator.load_subnets(session, net.id),
        requested=_requests(data.get("fixed_ips")),
        mac=mac,
        device_owner=owner,
    )
    now = utcnow()
    port = NewPort(
        id=new_id(),
        project_id=data["project_id"],
        network_id=net.id,
        name=data.get("name", ""),
        description=data.get("description", ""),
        mac_address=mac,
        admin_state_up=data.get("admin_state_up", True),
        status="DOWN",
        device_id=data.get("device_id", ""),
        device_owner=owner,
        created_at=now,
        updated_at=now,
        revision_number=0,
        fixed_ips=[
            IPAllocation(subnet_id=s, ip_address=ip, network_id=net.id, position=i)
            for i, (s, ip) in enumerate(pairs)
        ],
    )
    conn = session.connection()
    row = {k: v for k, v in vars(port).items() if k not in ("fixed_ips", "tags")}
    conn.execute(insert(PORTS), row)
    if data.get("tags"):
        # tag-ports-during-bulk-creation: stored as the tags API would (sorted when shown)
        port.tags = sorted(tag_service.validate_tags(data["tags"]))
        conn.execute(insert(Tag.__table__), [{"resource_id": port.id, "tag": t, "resource_type": "port"} for t in port.tags])
    if pairs:
        conn.execute(
            insert(IPALLOCATIONS),
            [
                {"port_id": port.id, "subnet_id": a.subnet_id, "ip_address": a.ip_address,
                 "network_id": net.id, "position": a.position}
                for a in port.fixed_ips
            ],
        )
    extensions.after_create(cfg.port_extensions, session, ctx, cfg, port, data)
    return port


def update(
    session: Session, ctx: Context, cfg: Domain, port_id: str, data: dict[str, Any],
    if_match: int | None = None,
) -> Port:
    port = get(session, ctx, port_id)
    ctx.require_write("update_port")
    common.check_revision(port, if_match)
    changed = False
    if "mac_address" in data and data["mac_address"] != port.mac_address:
        if not ctx.is_admin:
            raise errors.PolicyNotAuthorized(action="rule:update_port:mac_address")
        # null regenerates (port-mac-address-regenerate); either way only an unbound port's MAC
        # may change, and never a network:* port's (as Neutron)
        new_mac = _choose_mac(session, cfg, port.network_id, data["mac_address"])
        _check_mac_change(session, port, new_mac, data.get("device_owner", port.device_owner))
        port.mac_address = new_mac
        changed = True
    if "fixed_ips" in data:
        held = {(a.subnet_id, a.ip_address) for a in port.fixed_ips}
        pairs = allocator.allocate(
            session,
            network_id=port.network_id,
            subnets=allocator.load_subnets(session, port.network_id),
            requested=_requests(data["fixed_ips"]),
            mac=port.mac_address,
            device_owner=data.get("device_owner", port.device_owner),
            keep=held,
        )
        if set(pairs) != held or [(a.subnet_id, a.ip_address) for a in port.fixed_ips] != pairs:
            port.fixed_ips = []
            session.flush()
            port.fixed_ips = [
                IPAllocation(subnet_id=s, ip_address=ip, network_id=port.network_id, position=i)
                for i, (s, ip) in enumerate(pairs)
            ]
            changed = True
    if common.apply_updates(
        port, data, ("name", "description", "admin_state_up", "device_id", "device_owner")
    ):
        changed = True
    if extensions.before_update(cfg.port_extensions, session, ctx, cfg, port, data):
        changed = True
    if changed:
        port.bump_revision()
    session.flush()
    return port


UNPLUGGED = (VIF_TYPE_UNBOUND, VIF_TYPE_BINDING_FAILED)


def _check_mac_change(session: Session, port: Port, new_mac: str, owner: str) -> None:
    if owner.startswith("network:"):
        raise errors.UnsupportedPortDeviceOwner(op="mac address update", port_id=port.id, device_owner=owner)
    bound = session.scalar(
        select(PortBinding.vif_type).where(PortBinding.port_id == port.id, PortBinding.vif_type.notin_(UNPLUGGED))
        .limit(1)
    )
    if bound is not None:
        raise errors.PortBound(port_id=port.id, vif_type=bound, old_mac=port.mac_address, new_mac=new_mac)


# FOR UPDATE (PostgreSQL; SQLite's BEGIN IMMEDIATE already excludes other writers): what the
# probes below read after it is what the delete works on, a floating IP or trunk being tied to
# the port right now either committed first or waits on this lock and fails its foreign key check
_PORT_ROW = ByIds(lambda cond: select(PORTS.c.id, PORTS.c.project_id, PORTS.c.network_id, PORTS.c.revision_number)
                  .where(cond(PORTS.c.id)).with_for_update())  # fmt: skip
_HAS_TAGS = (exists().where(TAGS.c.resource_id == PORTS.c.id),)
# built once: a statement built per call costs three times what it costs to run on SQLite
_DELETE_ADDRESSES = delete_stmt(IPALLOCATIONS).where(IPALLOCATIONS.c.port_id == bindparam("port_id"))
_DELETE_PORT = delete_stmt(PORTS).where(PORTS.c.id == bindparam("port_id"), PORTS.c.revision_number == bindparam("revision"))


class _PortRow(NamedTuple):
    id: str
    project_id: str
    network_id: str
    revision_number: int


def delete(
    session: Session, ctx: Context, cfg: Domain, port_id: str, if_match: int | None = None
) -> None:
    """The port's extensions clean up first, only those whose probe says they have something
    to do (``extensions.probe_before_delete``: one statement for all, and whether it has tags)."""
    conn = session.connection()
    found = next(_PORT_ROW.rows(conn, [port_id]), None)
    if found is None:
        raise errors.PortNotFound(port_id=port_id)
    port = _PortRow(*found)
    if not ctx.is_admin and port.project_id != ctx.project_id:
        owner = conn.execute(_NETWORK_OWNER, {"id": port.network_id}).scalar()
        if owner != ctx.project_id:
            raise errors.PortNotFound(port_id=port_id)
    ctx.require_write("delete_port")
    common.check_revision(port, if_match)
    needed, (has_tags,) = extensions.probe_before_delete(cfg.port_extensions, conn, PORTS, port_id, _HAS_TAGS)
    extensions.before_delete(cfg.port_extensions, session, ctx, cfg, port, needed)
    if has_tags:
        common.delete_tags(session, port_id)
    conn.execute(_DELETE_ADDRESSES, {"port_id": port_id})
    gone = conn.execute(_DELETE_PORT, {"port_id": port_id, "revision": port.revision_number})
    if gone.rowcount == 0:  # changed by another writer since read: run again (If-Match atomic)
        raise RetryRequest()


def render(session: Session, cfg: Domain, ports: list[Port], fresh: bool = False) -> list[dict[str, Any]]:
    tags = {p.id: list(getattr(p, "tags", [])) for p in ports} if fresh else common.tags_by_resource(session, [p.id for p in ports])
    out = []
    for p in ports:
        d = {
            "id": p.id,
            "name": p.name,
            "network_id": p.network_id,
            "mac_address": p.mac_address,
            "admin_state_up": p.admin_state_up,
            "status": p.status,
            "device_id": p.device_id,
            "device_owner": p.device_owner,
            "fixed_ips": [{"subnet_id": a.subnet_id, "ip_address": a.ip_address} for a in p.fixed_ips],
        }
        d.update(common.standard_fields(p, tags.get(p.id, [])))
        out.append(d)
    extensions.render(cfg.port_extensions, session, ports, out)
    return out
