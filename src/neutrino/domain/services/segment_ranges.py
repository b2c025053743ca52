"""Network segment ranges (``/v2.0/network-segment-ranges``): admin CRUD, as Neutron's
network_segment_range service plugin.

Types: vlan (with a physical network), vxlan and geneve among the configured type drivers
(others 400 NetworkSegmentRangeNetTypeNotSupported). A range must lie in its type's id space;
a non-default range overlapping another of the same type and physnet is 409
NetworkSegmentRangeOverlaps. The ``default`` ranges (the configured ones) are read-only (400).
A range holding segments of networks can be neither deleted nor shrunk past them (409
NetworkSegmentRangeReferencedByProject). After a change the type's allocation table is
synchronised, so the new ids can be taken at once (domain/ml2/segment_ranges.py).
``available`` lists the free ids of the range, ``used`` maps taken ids to their projects.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.context import Context
from neutrino.domain.listing import ListQuery, apply_filters, apply_order_and_page
from neutrino.domain.ml2.types import ranges
from neutrino.domain.models import Network, NetworkSegment, NetworkSegmentRange
from neutrino.domain.models.base import new_id
from neutrino.domain.services import common
from neutrino.domain.wiring import Domain

R = NetworkSegmentRange
TYPES = ("vlan", "vxlan", "geneve", "gre")
LIMITS = {"vlan": (ranges.MIN_VLAN_TAG, ranges.MAX_VLAN_TAG)}
COLUMNS = {
    "id": R.id, "name": R.name, "project_id": R.project_id, "network_type": R.network_type,
    "physical_network": R.physical_network, "default": R.default, "shared": R.shared,
    "minimum": R.minimum, "maximum": R.maximum, "description": R.description,
    "created_at": R.created_at, "updated_at": R.updated_at, "revision_number": R.revision_number,
}  # fmt: skip


def _admin(ctx: Context, action: str) -> None:
    if not ctx.is_admin:
        raise errors.PolicyNotAuthorized(action=action)


def get(session: Session, ctx: Context, range_id: str) -> NetworkSegmentRange:
    found = session.get(R, range_id) if isinstance(range_id, str) and ctx.is_admin else None
    if found is None:
        raise errors.NetworkSegmentRangeNotFound(range_id=range_id)
    return found


def list_(session: Session, ctx: Context, cfg: Domain, q: ListQuery) -> list[NetworkSegmentRange]:
    if not ctx.is_admin:
        return []
    stmt = apply_filters(select(R), R, q, COLUMNS)
    return list(session.scalars(apply_order_and_page(session, stmt, R, q, COLUMNS)))


def _segments_in(session: Session, r: Any) -> list[tuple[int, str]]:
    """(segmentation id, network project) of the networks' segments inside ``r``."""
    stmt = (
        select(NetworkSegment.segmentation_id, Network.project_id)
        .join(Network, Network.id == NetworkSegment.network_id)
        .where(
            NetworkSegment.network_type == r.network_type,
            NetworkSegment.segmentation_id >= r.minimum,
            NetworkSegment.segmentation_id <= r.maximum,
        )
        .order_by(NetworkSegment.segmentation_id)
    )
    if r.network_type == "vlan":
        stmt = stmt.where(NetworkSegment.physical_network == r.physical_network)
    return [(int(s), p) for s, p in session.execute(stmt)]


def _check(session: Session, cfg: Domain, r: Any, range_id: str | None = None) -> None:
    if r.network_type not in TYPES or r.network_type not in cfg.ml2.type_drivers:
        raise errors.NetworkSegmentRangeNetTypeNotSupported(type=r.network_type)
    if r.network_type == "vlan" and not r.physical_network:
        raise errors.HTTPBadRequest(msg="Network type vlan requires 'physical_network' to be specified while creating new range")
    low, high = LIMITS.get(r.network_type, (ranges.MIN_VNI, ranges.MAX_VNI))
    if not (low <= r.minimum <= r.maximum <= high):
        raise errors.InvalidInput(
            error_message=f"{r.minimum}:{r.maximum} is not a valid {r.network_type} range ({low} through {high})"
        )
    others = session.scalars(
        select(R).where(
            R.default.is_(False), R.network_type == r.network_type, R.physical_network == r.physical_network
        )
    )
    overlapping = [o.id for o in others if o.id != range_id and r.minimum <= o.maximum and r.maximum >= o.minimum]
    if overlapping:
        raise errors.NetworkSegmentRangeOverlaps(range_id=", ".join(overlapping))


def _resync(session: Session, cfg: Domain, network_type: str) -> None:
    cfg.ml2.type_drivers[network_type].sync_allocations(session)


def create(session: Session, ctx: Context, cfg: Domain, data: dict[str, Any]) -> NetworkSegmentRange:
    _admin(ctx, "create_network_segment_range")
    shared = bool(data.get("shared", True))
    network_type = data.get("network_type")
    if not isinstance(network_type, str):
        raise errors.HTTPBadRequest(msg="Failed to parse request. Required attribute 'network_type' not specified")
    for key in ("minimum", "maximum"):
        if data.get(key) is None:
            raise errors.HTTPBadRequest(msg=f"Failed to parse request. Required attribute '{key}' not specified")
    row = R(
        id=new_id(), name=data.get("name", ""), description=data.get("description", ""), default=False,
        shared=shared, project_id=None if shared else data["project_id"], network_type=network_type,
        physical_network=(data.get("physical_network") or "") if network_type == "vlan" else "",
        minimum=data["minimum"], maximum=data["maximum"],
    )  # fmt: skip
    _check(session, cfg, row)
    session.add(row)
    session.flush()
    _resync(session, cfg, network_type)
    return row


def update(
    session: Session, ctx: Context, cfg: Domain, range_id: str, data: dict[str, Any], if_match: int | None = None
) -> NetworkSegmentRange:
    row = get(session, ctx, range_id)
    _admin(ctx, "update_network_segment_range")
    common.check_revision(row, if_match)
    if row.default:
        raise errors.NetworkSegmentRangeDefaultReadOnly(range_id=row.id)
    low, high = data.get("minimum", row.minimum), data.get("maximum", row.maximum)
    used = _segments_in(session, row)
    if used and (low > used[0][0] or high < used[-1][0]):
        raise errors.NetworkSegmentRangeReferencedByProject(range_id=row.id)
    if common.apply_updates(row, data, ("name", "description", "minimum", "maximum")):
        _check(session, cfg, row, row.id)
        row.bump_revision()
    session.flush()
    _resync(session, cfg, row.network_type)
    return row


def delete(session: Session, ctx: Context, cfg: Domain, range_id: str, if_match: int | None = None) -> None:
    row = get(session, ctx, range_id)
    _admin(ctx, "delete_network_segment_range")
    common.check_revision(row, if_match)
    if row.default:
        raise errors.NetworkSegmentRangeDefaultReadOnly(range_id=row.id)
    if _segments_in(session, row):
        raise errors.NetworkSegmentRangeReferencedByProject(range_id=row.id)
    network_type = row.network_type
    common.delete_tags(session, row.id)
    session.delete(row)
    session.flush()
    _resync(session, cfg, network_type)


def render(session: Session, cfg: Domain, rows: list[NetworkSegmentRange], fresh: bool = False) -> list[dict[str, Any]]:
    tags = {} if fresh else common.tags_by_resource(session, [r.id for r in rows])
    out = []
    for r in rows:
        used = _segments_in(session, r)
        taken = {s for s, _ in used}
        d = {
            "id": r.id, "name": r.name, "default": r.default, "shared": r.shared,
            "network_type": r.network_type,
            "physical_network": r.physical_network if r.network_type == "vlan" else None,
            "minimum": r.minimum, "maximum": r.maximum,
            "used": {str(s): p for s, p in used},
            "available": [i for i in range(r.minimum, r.maximum + 1) if i not in taken],
        }  # fmt: skip
        d.update(common.standard_fields(r, tags.get(r.id, [])))
        d["project_id"] = d["tenant_id"] = r.project_id
        out.append(d)
    return out
