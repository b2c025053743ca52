"""Network segments as a resource (Neutron's ``segment`` extension, ``/v2.0/segments``): admin only.

An admin adds a segment to an existing network (``network_type`` and, as the type needs,
``physical_network`` and ``segmentation_id``, reserved through the ML2 type driver as a provider
segment is, from the network's project's segment ranges first when partial), renames it, or
deletes it; a network with several segments is a multi-provider network. A segment with ports
bound to it cannot be deleted (409 SegmentInUse); deleting it releases its id. Segments made
by a network's creation go with the network. Others see no segment (404, empty list).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.context import Context
from neutrino.domain.listing import ListQuery, apply_filters, apply_order_and_page
from neutrino.domain.ml2.api import Segment
from neutrino.domain.models import Network, NetworkSegment, PortBindingLevel
from neutrino.domain.models.base import new_id
from neutrino.domain.services import common
from neutrino.domain.wiring import Domain

S = NetworkSegment
COLUMNS = {
    "id": S.id, "network_id": S.network_id, "network_type": S.network_type, "physical_network": S.physical_network,
    "segmentation_id": S.segmentation_id, "name": S.name, "description": S.description,
    "created_at": S.created_at, "updated_at": S.updated_at, "revision_number": S.revision_number,
}  # fmt: skip


def _admin(ctx: Context, action: str) -> None:
    if not ctx.is_admin:
        raise errors.PolicyNotAuthorized(action=action)


def get(session: Session, ctx: Context, segment_id: str) -> NetworkSegment:
    found = session.get(S, segment_id) if isinstance(segment_id, str) and ctx.is_admin else None
    if found is None or found.is_dynamic:
        raise errors.SegmentNotFound(segment_id=segment_id)
    return found


def list_(session: Session, ctx: Context, cfg: Domain, q: ListQuery) -> list[NetworkSegment]:
    if not ctx.is_admin:
        return []
    stmt = apply_filters(select(S).where(S.is_dynamic.is_(False)), S, q, COLUMNS)
    return list(session.scalars(apply_order_and_page(session, stmt, S, q, COLUMNS)))


def create(session: Session, ctx: Context, cfg: Domain, data: dict[str, Any]) -> NetworkSegment:
    _admin(ctx, "create_segment")
    network = session.get(Network, data["network_id"])
    if network is None:
        raise errors.NetworkNotFound(net_id=data["network_id"])
    requested = Segment(data["network_type"], data.get("physical_network") or None, data.get("segmentation_id"))
    reserved = cfg.ml2.reserve_provider_segment(session, requested, network.project_id)
    index = session.scalar(select(func.max(S.segment_index)).where(S.network_id == network.id))
    row = S(
        id=new_id(), network_id=network.id, network_type=reserved.network_type,
        physical_network=reserved.physical_network, segmentation_id=reserved.segmentation_id,
        segment_index=(index + 1) if index is not None else 0, is_dynamic=False,
        name=data.get("name"), description=data.get("description") or "",
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def update(
    session: Session, ctx: Context, cfg: Domain, segment_id: str, data: dict[str, Any], if_match: int | None = None
) -> NetworkSegment:
    row = get(session, ctx, segment_id)
    _admin(ctx, "update_segment")
    common.check_revision(row, if_match)
    if common.apply_updates(row, data, ("name", "description")):
        row.bump_revision()
    session.flush()
    return row


def delete(session: Session, ctx: Context, cfg: Domain, segment_id: str, if_match: int | None = None) -> None:
    row = get(session, ctx, segment_id)
    _admin(ctx, "delete_segment")
    common.check_revision(row, if_match)
    bound = session.scalar(
        select(func.count(func.distinct(PortBindingLevel.port_id))).where(PortBindingLevel.segment_id == row.id)
    )
    if bound:
        raise errors.SegmentInUse(segment_id=row.id, reason=f"The segment is still bound with {bound} port(s)")
    cfg.ml2.release_segment(session, Segment(row.network_type, row.physical_network, row.segmentation_id, row.id))
    session.delete(row)
    session.flush()


def render(session: Session, cfg: Domain, rows: list[NetworkSegment], fresh: bool = False) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        out.append({
            "id": r.id, "network_id": r.network_id, "name": r.name, "description": r.description,
            "network_type": r.network_type, "physical_network": r.physical_network,
            "segmentation_id": r.segmentation_id,
            "created_at": common.ts(r.created_at), "updated_at": common.ts(r.updated_at),
            "revision_number": r.revision_number,
        })  # fmt: skip
    return out
