"""Network segments in the database (``network_segments``), read in batches for rendering.

Only static segments are the network's own (provider attributes, binding candidates);
dynamic ones (hierarchical binding) are left out of these reads. ``/v2.0/segments`` shows the
table as it is, to admins, read-only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.engine import connection_of
from neutrino.domain.context import Context
from neutrino.domain.listing import ListQuery, apply_filters, apply_order_and_page
from neutrino.domain.ml2.api import Segment
from neutrino.domain.models import NetworkSegment
from neutrino.domain.models.base import new_id, utcnow

SEGMENTS = NetworkSegment.__table__
_COLUMNS = (SEGMENTS.c.network_id, SEGMENTS.c.id, SEGMENTS.c.network_type, SEGMENTS.c.physical_network,
            SEGMENTS.c.segmentation_id)  # fmt: skip
_OF_ONE = (
    select(*_COLUMNS)
    .where(SEGMENTS.c.network_id == bindparam("id"), SEGMENTS.c.is_dynamic.is_(False))
    .order_by(SEGMENTS.c.segment_index)
)
_OF_MANY = (
    select(*_COLUMNS)
    .where(SEGMENTS.c.network_id.in_(bindparam("ids", expanding=True)), SEGMENTS.c.is_dynamic.is_(False))
    .order_by(SEGMENTS.c.network_id, SEGMENTS.c.segment_index)
)


def store(session: Session, network_id: str, segment: Segment, index: int = 0) -> Segment:
    stored = Segment(segment.network_type, segment.physical_network, segment.segmentation_id, new_id())
    session.connection().execute(
        insert(SEGMENTS),
        {
            "id": stored.id,
            "network_id": network_id,
            "network_type": stored.network_type,
            "physical_network": stored.physical_network,
            "segmentation_id": stored.segmentation_id,
            "segment_index": index,
            "is_dynamic": False,
        },
    )
    return stored


def of_networks(db: Session | Connection, network_ids: Iterable[str]) -> dict[str, list[Segment]]:
    ids = list(network_ids)
    out: dict[str, list[Segment]] = defaultdict(list)
    conn = connection_of(db)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = conn.execute(_OF_ONE, {"id": chunk[0]}) if len(chunk) == 1 else conn.execute(_OF_MANY, {"ids": chunk})
        for net_id, seg_id, net_type, physnet, seg in rows:
            out[net_id].append(Segment(net_type, physnet, seg, seg_id))
    return out


def of_network(db: Session | Connection, network_id: str) -> list[Segment]:
    return of_networks(db, [network_id]).get(network_id, [])


def delete_all(session: Session, network_id: str) -> None:
    session.connection().execute(delete(SEGMENTS).where(SEGMENTS.c.network_id == network_id))


# --- the read-only /v2.0/segments view (admin) ------------------------------------------------

VIEW_COLUMNS = {
    "id": NetworkSegment.id,
    "network_id": NetworkSegment.network_id,
    "network_type": NetworkSegment.network_type,
    "physical_network": NetworkSegment.physical_network,
    "segmentation_id": NetworkSegment.segmentation_id,
}


def list_view(db: Session | Connection, ctx: Context, q: ListQuery) -> list[Any]:
    """Every segment for an admin; nothing for anyone else (Neutron's policy is admin-only)."""
    if not ctx.is_admin:
        return []
    conn = connection_of(db)
    stmt = apply_filters(select(SEGMENTS), NetworkSegment, q, VIEW_COLUMNS)
    return list(conn.execute(apply_order_and_page(conn, stmt, NetworkSegment, q, VIEW_COLUMNS)))


def get_view(db: Session | Connection, ctx: Context, segment_id: str) -> Any:
    row = connection_of(db).execute(select(SEGMENTS).where(SEGMENTS.c.id == segment_id)).first()
    if row is None or not ctx.is_admin:
        raise errors.HTTPNotFound(msg=f"Segment {segment_id} could not be found.")
    return row


def update_view(db: Session | Connection, ctx: Context, segment_id: str, data: dict[str, Any]) -> Any:
    """name and description (standard-attr-segment); a change bumps revision and updated_at."""
    row = get_view(db, ctx, segment_id)
    changes = {k: data[k] for k in ("name", "description") if k in data and data[k] != getattr(row, k)}
    if changes:
        connection_of(db).execute(
            update(SEGMENTS).where(SEGMENTS.c.id == segment_id)
            .values(**changes, revision_number=row.revision_number + 1, updated_at=utcnow())
        )
    return get_view(db, ctx, segment_id)


def _ts(value: Any) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds") + "Z"


def render_view(rows: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": r.id,
            "network_id": r.network_id,
            "name": r.name,
            "description": r.description,
            "network_type": r.network_type,
            "physical_network": r.physical_network,
            "segmentation_id": r.segmentation_id,
            "created_at": _ts(r.created_at),
            "updated_at": _ts(r.updated_at),
            "revision_number": r.revision_number,
        }
        for r in rows
    ]
