"""Trunks: create, read, update, delete, and the add/remove/get subports actions.

Follows Neutron's trunk plugin (docs/neutron-behaviour.md, "Trunks"): a trunk is made on an
unbound parent port (the OVS driver cannot trunk a bound one), may not be deleted or changed
in its subports while disabled, and may not be deleted while its parent is bound. Subports
follow the parent: bound to the parent's host with device_owner ``trunk:subport`` when the
parent is bound (now, or later through ``trunk_ports.TrunkPorts``), unbound when they leave
the trunk. Each request is one transaction: a refused subport leaves nothing half-added.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.context import Context
from neutrino.domain.listing import ListQuery, apply_filters, apply_order_and_page
from neutrino.domain.ml2.port_ext import HOST_ID, binding_of
from neutrino.domain.models import Network, NetworkSegment, Port, SubPort, Trunk
from neutrino.domain.models.base import new_id
from neutrino.domain.services import common, ports
from neutrino.domain.trunks import rules
from neutrino.domain.wiring import Domain

COLUMNS = {
    "id": Trunk.id,
    "name": Trunk.name,
    "project_id": Trunk.project_id,
    "tenant_id": Trunk.project_id,
    "description": Trunk.description,
    "admin_state_up": Trunk.admin_state_up,
    "port_id": Trunk.port_id,
    "revision_number": Trunk.revision_number,
    "created_at": Trunk.created_at,
    "updated_at": Trunk.updated_at,
}


# --- reads --------------------------------------------------------------------------------


def get(session: Session, ctx: Context, trunk_id: str) -> Trunk:
    trunk = session.get(Trunk, trunk_id)
    if trunk is None or not ctx.owns(trunk.project_id):
        raise errors.TrunkNotFound(trunk_id=trunk_id)
    return trunk


def list_(session: Session, ctx: Context, cfg: Domain, q: ListQuery) -> list[Trunk]:
    stmt = select(Trunk)
    if not ctx.is_admin:
        stmt = stmt.where(Trunk.project_id == ctx.project_id)
    stmt = apply_filters(stmt, Trunk, q, COLUMNS)
    stmt = apply_order_and_page(session, stmt, Trunk, q, COLUMNS)
    return list(session.scalars(stmt))


def subports_of(session: Session, trunk_ids: Iterable[str]) -> dict[str, list[SubPort]]:
    out: dict[str, list[SubPort]] = {}
    ids = list(trunk_ids)
    if ids:
        stmt = select(SubPort).where(SubPort.trunk_id.in_(ids)).order_by(SubPort.segmentation_id, SubPort.port_id)
        for sub in session.scalars(stmt):
            out.setdefault(sub.trunk_id, []).append(sub)
    return out


def subport_dict(sub: SubPort) -> dict[str, Any]:
    return {"segmentation_id": sub.segmentation_id, "segmentation_type": sub.segmentation_type, "port_id": sub.port_id}


def render(session: Session, cfg: Domain, trunks: list[Trunk], fresh: bool = False) -> list[dict[str, Any]]:
    subs = subports_of(session, [t.id for t in trunks])
    port_ids = [t.port_id for t in trunks] + [s.port_id for ss in subs.values() for s in ss]
    bindings = binding_of(session, port_ids)
    status = dict(session.execute(select(Port.id, Port.status).where(Port.id.in_(port_ids))).all()) if port_ids else {}
    tags = {} if fresh else common.tags_by_resource(session, [t.id for t in trunks])
    out = []
    for t in trunks:
        mine = subs.get(t.id, [])
        parent = bindings.get(t.port_id)
        d = {
            "id": t.id,
            "name": t.name,
            "admin_state_up": t.admin_state_up,
            "port_id": t.port_id,
            "status": rules.trunk_status(
                parent.vif_type if parent else None, parent.host if parent else "",
                [status.get(p, "DOWN") for p in [t.port_id, *(s.port_id for s in mine)]],
                [bindings[s.port_id].vif_type for s in mine if s.port_id in bindings],
            ),
            "sub_ports": [subport_dict(s) for s in mine],
        }
        d.update(common.standard_fields(t, tags.get(t.id, [])))
        out.append(d)
    return out


# --- validation (Neutron's TrunkPortValidator / SubPortsValidator, in its order) ------------


def _host_of(session: Session, port_id: str) -> str:
    state = binding_of(session, [port_id]).get(port_id)
    return state.host if state is not None else ""


def _check_port_free(session: Session, port_id: str) -> None:
    if session.get(SubPort, port_id) is not None:
        raise errors.TrunkPortInUse(port_id=port_id)
    if session.scalar(select(Trunk.id).where(Trunk.port_id == port_id)) is not None:
        raise errors.ParentPortInUse(port_id=port_id)


def _check_parent(session: Session, ctx: Context, port_id: str) -> Port:
    _check_port_free(session, port_id)
    port = ports.get(session, ctx, port_id)
    if _host_of(session, port_id):  # the OVS driver cannot trunk a bound port
        raise errors.ParentPortInUse(port_id=port_id)
    return port


def _network_mtu(session: Session, network_id: str) -> int | None:
    return session.scalar(select(Network.mtu).where(Network.id == network_id))


def _resolve(session: Session, ctx: Context, subports: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """``inherit`` replaced by the subport network's segment (type and id), and the network MTU
    of each subport that exists (missing ports are refused later, by their own check)."""
    out = [dict(s) for s in subports]
    mtus: dict[str, int] = {}
    ids = [s["port_id"] for s in out]
    nets = dict(session.execute(select(Port.id, Port.network_id).where(Port.id.in_(ids))).all()) if ids else {}
    for sub in out:
        network_id = nets.get(sub["port_id"])
        if network_id is None:
            continue
        mtu = _network_mtu(session, network_id)
        if mtu:
            mtus[sub["port_id"]] = mtu
        if sub.get("segmentation_type") == rules.INHERIT:
            seg = session.scalars(
                select(NetworkSegment).where(NetworkSegment.network_id == network_id).order_by(NetworkSegment.segment_index)
            ).first()
            port_id = sub["port_id"]
            sub.clear()
            sub.update(port_id=port_id, segmentation_type=seg.network_type if seg else None,
                       segmentation_id=seg.segmentation_id if seg else None)
    return out, mtus


def _check_subports(
    session: Session, ctx: Context, subports: list[dict[str, Any]], parent: Port
) -> list[tuple[str, str, int]]:
    """(port_id, type, id) of each subport, or the first error Neutron would give."""
    parent_mtu = _network_mtu(session, parent.network_id)
    resolved, mtus = _resolve(session, ctx, subports)
    out = []
    for sub in resolved:
        port_id = sub["port_id"]
        if port_id == parent.id:
            raise errors.ParentPortInUse(port_id=port_id)
        if parent_mtu and mtus.get(port_id, 0) > parent_mtu:
            raise errors.SubPortMtuGreaterThanTrunkPortMtu(
                port_id=port_id, port_mtu=mtus[port_id], trunk_id=parent.id, trunk_mtu=parent_mtu)
        try:
            seg_type, seg_id = rules.segmentation_of(sub)
        except ValueError as exc:
            raise errors.InvalidInput(error_message=str(exc)) from None
        _check_port_free(session, port_id)
        port = ports.get(session, ctx, port_id)
        if port.device_id:
            raise errors.PortInUse(net_id=port.network_id, port_id=port.id, device_id=port.device_id)
        out.append((port_id, seg_type, seg_id))
    return out


# --- subports follow the parent's binding ---------------------------------------------------


def bind_subports(session: Session, cfg: Domain, port_ids: Iterable[str], host: str) -> None:
    """Bind subports to the parent's host (or unbind them, ``host`` empty), as Neutron's OVS
    trunk driver does once the parent is bound; a subport's own owner becomes ``trunk:subport``."""
    admin = Context.admin()
    for port_id in port_ids:
        owner = rules.SUBPORT_OWNER if host else ""
        ports.update(session, admin, cfg, port_id, {HOST_ID: host, "device_owner": owner})


# --- writes -------------------------------------------------------------------------------


def _insert_subports(session: Session, trunk: Trunk, wanted: list[tuple[str, str, int]]) -> None:
    taken = {(s.segmentation_type, s.segmentation_id) for s in subports_of(session, [trunk.id]).get(trunk.id, [])}
    for port_id, seg_type, seg_id in wanted:
        if (seg_type, seg_id) in taken:
            raise errors.DuplicateSubPort(segmentation_type=seg_type, segmentation_id=seg_id, trunk_id=trunk.id)
        taken.add((seg_type, seg_id))
        session.add(SubPort(port_id=port_id, trunk_id=trunk.id, segmentation_type=seg_type, segmentation_id=seg_id))
    try:
        session.flush()
    except IntegrityError:  # a concurrent request took the port or the segmentation first
        raise errors.TrunkPortInUse(port_id=",".join(p for p, _, _ in wanted)) from None


def create(session: Session, ctx: Context, cfg: Domain, data: dict[str, Any]) -> Trunk:
    ctx.require_write("create_trunk")
    parent = _check_parent(session, ctx, data["port_id"])
    wanted = _check_subports(session, ctx, data.get("sub_ports") or [], parent)
    trunk = Trunk(
        id=new_id(), project_id=data["project_id"], name=data.get("name", ""),
        description=data.get("description", ""), admin_state_up=data.get("admin_state_up", True),
        port_id=parent.id,
    )
    session.add(trunk)
    session.flush()
    _insert_subports(session, trunk, wanted)
    return trunk


def update(
    session: Session, ctx: Context, cfg: Domain, trunk_id: str, data: dict[str, Any], if_match: int | None = None
) -> Trunk:
    trunk = get(session, ctx, trunk_id)
    ctx.require_write("update_trunk")
    common.check_revision(trunk, if_match)
    if common.apply_updates(trunk, data, ("name", "description", "admin_state_up")):
        trunk.bump_revision()
    session.flush()
    return trunk


def _manageable(trunk: Trunk) -> None:
    if not trunk.admin_state_up:
        raise errors.TrunkDisabled(trunk_id=trunk.id)


def delete(session: Session, ctx: Context, cfg: Domain, trunk_id: str, if_match: int | None = None) -> None:
    trunk = get(session, ctx, trunk_id)
    ctx.require_write("delete_trunk")
    common.check_revision(trunk, if_match)
    _manageable(trunk)
    if _host_of(session, trunk.port_id):  # the OVS driver cannot untrunk a bound parent
        raise errors.TrunkInUse(trunk_id=trunk.id)
    subs = [s.port_id for s in subports_of(session, [trunk.id]).get(trunk.id, [])]
    common.delete_tags(session, trunk.id)
    session.delete(trunk)
    session.flush()
    bind_subports(session, cfg, subs, "")


def _body_subports(body: Any) -> list[dict[str, Any]]:
    subs = body.get("sub_ports") if isinstance(body, dict) else None
    msg = rules.validate_subports(subs)
    if msg:
        raise errors.InvalidInput(error_message=msg)
    return subs  # type: ignore[return-value]


def add_subports(session: Session, ctx: Context, cfg: Domain, trunk_id: str, body: Any) -> Trunk:
    trunk = get(session, ctx, trunk_id)
    ctx.require_write("add_subports")
    requested = _body_subports(body)
    parent = session.get(Port, trunk.port_id)
    assert parent is not None  # a trunk's parent cannot be deleted (TrunkPorts guard)
    wanted = _check_subports(session, ctx, requested, parent)
    _manageable(trunk)
    _insert_subports(session, trunk, wanted)
    if wanted:
        trunk.bump_revision()
        session.flush()
    host = _host_of(session, trunk.port_id)
    if host:
        bind_subports(session, cfg, [p for p, _, _ in wanted], host)
    return trunk


def remove_subports(session: Session, ctx: Context, cfg: Domain, trunk_id: str, body: Any) -> Trunk:
    trunk = get(session, ctx, trunk_id)
    ctx.require_write("remove_subports")
    requested = _body_subports(body)
    _manageable(trunk)
    current = {s.port_id: s for s in subports_of(session, [trunk.id]).get(trunk.id, [])}
    removed = []
    for sub in requested:
        row = current.pop(sub["port_id"], None)
        if row is None:
            raise errors.SubPortNotFound(trunk_id=trunk.id, port_id=sub["port_id"])
        session.delete(row)
        removed.append(row.port_id)
    if removed:
        trunk.bump_revision()
    session.flush()
    bind_subports(session, cfg, removed, "")
    return trunk


def get_subports(session: Session, ctx: Context, trunk_id: str) -> list[dict[str, Any]]:
    trunk = get(session, ctx, trunk_id)
    return [subport_dict(s) for s in subports_of(session, [trunk.id]).get(trunk.id, [])]
