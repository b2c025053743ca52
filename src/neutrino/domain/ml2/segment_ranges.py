"""Network segment ranges as the type drivers use them (``network-segment-range``).

A project network takes its segmentation id from the project's own ranges first, then from
the shared ones (the ``default`` ranges, which mirror the configured ones, and shared ranges an
admin added), never from another project's range. The allocation tables hold a row for every
id of every range, configured or stored (``sync_allocations``), so the choice is a WHERE
clause over the same ``UPDATE ... WHERE allocated = false`` claim.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import and_, not_, or_, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from neutrino.domain.ml2.types import ranges
from neutrino.domain.ml2.types.segment_alloc import AllocTable
from neutrino.domain.models import NetworkSegmentRange
from neutrino.domain.models.base import new_id

R = NetworkSegmentRange


def _rows(session: Session, network_type: str) -> list[Any]:
    return list(session.execute(select(R).where(R.network_type == network_type)).scalars())


def _within(t: AllocTable, rows: Sequence[Any]) -> ColumnElement[bool]:
    c = t.table.c
    col = c[t.id_column]
    clauses = []
    for r in rows:
        clause = and_(col >= r.minimum, col <= r.maximum)
        if "physical_network" in t.key_columns:
            clause = and_(clause, c.physical_network == r.physical_network)
        clauses.append(clause)
    return or_(*clauses)


def tiers(session: Session, network_type: str, t: AllocTable, project_id: str | None) -> list[ColumnElement[bool]]:
    """The WHERE clauses to try in order: the project's own ranges, then the shared ones
    (minus other projects' ranges). One unrestricted clause when no range is stored."""
    rows = _rows(session, network_type)
    if not rows:
        return [true()]
    own = [r for r in rows if not r.shared and project_id is not None and r.project_id == project_id]
    others = [r for r in rows if not r.shared and r not in own]
    shared = [r for r in rows if r.shared]
    out = [_within(t, own)] if own else []
    out.append(and_(_within(t, shared) if shared else true(), not_(_within(t, others)) if others else true()))
    return out


def stored_ids(session: Session, network_type: str) -> dict[str, set[int]]:
    """The ids of the non-default stored ranges of a type, per physical network ('' for tunnels)."""
    out: dict[str, set[int]] = defaultdict(set)
    for r in _rows(session, network_type):
        if not r.default:
            out[r.physical_network].update(range(r.minimum, r.maximum + 1))
    return out


def covers(session: Session, network_type: str, physical_network: str | None, seg_id: int) -> bool:
    stmt = select(R.id).where(
        R.network_type == network_type,
        R.physical_network == (physical_network or ""),
        R.minimum <= seg_id,
        R.maximum >= seg_id,
    )
    return session.scalar(stmt.limit(1)) is not None


def sync_defaults(session: Session, network_type: str, configured: Mapping[str, Sequence[ranges.Range]]) -> None:
    """Make the ``default`` ranges of a type equal the configured ones (server start)."""
    wanted = {(physnet, low, high) for physnet, rs in configured.items() for low, high in rs}
    for r in [r for r in _rows(session, network_type) if r.default]:
        key = (r.physical_network, r.minimum, r.maximum)
        if key in wanted:
            wanted.discard(key)
        else:
            session.delete(r)
    for physnet, low, high in sorted(wanted):
        session.add(
            R(id=new_id(), name="", default=True, shared=True, project_id=None, network_type=network_type,
              physical_network=physnet, minimum=low, maximum=high)  # fmt: skip
        )
    session.flush()
