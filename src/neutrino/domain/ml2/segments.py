"""Network segments in the database (``network_segments``), read in batches for rendering.

Only static segments are the network's own (provider attributes, binding candidates);
dynamic ones (hierarchical binding) are left out of these reads. ``/v2.0/segments`` is
domain/services/network_segments.py.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from neutrino.db.by_ids import ByIds
from neutrino.db.engine import connection_of
from neutrino.domain.ml2.api import Segment
from neutrino.domain.models import NetworkSegment
from neutrino.domain.models.base import new_id

SEGMENTS = NetworkSegment.__table__
_COLUMNS = (SEGMENTS.c.network_id, SEGMENTS.c.id, SEGMENTS.c.network_type, SEGMENTS.c.physical_network,
            SEGMENTS.c.segmentation_id)  # fmt: skip
_OF = ByIds(lambda cond: select(*_COLUMNS)
            .where(cond(SEGMENTS.c.network_id), SEGMENTS.c.is_dynamic.is_(False))
            .order_by(SEGMENTS.c.network_id, SEGMENTS.c.segment_index))  # fmt: skip


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
    for net_id, seg_id, net_type, physnet, seg in _OF.rows(connection_of(db), ids):
        out[net_id].append(Segment(net_type, physnet, seg, seg_id))
    return out


def of_network(db: Session | Connection, network_id: str) -> list[Segment]:
    return of_networks(db, [network_id]).get(network_id, [])


def delete_all(session: Session, network_id: str) -> None:
    session.connection().execute(delete(SEGMENTS).where(SEGMENTS.c.network_id == network_id))
