"""Segmentation-id allocation over an ``ml2_*_allocations`` table, safe under concurrency.

Every id of the configured ranges has a row (``allocated`` false) once the server has started
(``sync``). Taking a free id reads a batch of free rows, picks one at random and claims it
with ``UPDATE ... SET allocated = true WHERE <id> AND allocated = false``: a row count of 0
means a concurrent transaction claimed it first, and the whole unit of work is retried
(RetryRequest), as Neutron does. An admin asking for a specific id flips its row if free, is
refused if taken, and gets a new allocated row if the id lies outside the ranges; releasing
flips in-range rows back and deletes out-of-range ones. Used by the vlan, vxlan and geneve
type drivers; ``key_columns`` is ``("physical_network",)`` for VLANs and empty for tunnels.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, and_, delete, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from neutrino.db.engine import RetryRequest
from neutrino.domain.ml2.types import ranges

SELECT_SIZE = 100
"""How many free rows one allocation reads to choose from."""
CHUNK = 5000

Key = tuple[Any, ...]


@dataclass(frozen=True)
class AllocTable:
    table: Table
    id_column: str
    key_columns: tuple[str, ...] = ()

    def pk(self, key: Key, seg_id: int) -> Any:
        c = self.table.c
        clauses = [c[name] == value for name, value in zip(self.key_columns, key, strict=True)]
        return and_(*clauses, c[self.id_column] == seg_id)


def allocate_free(
    session: Session, t: AllocTable, filters: Mapping[str, Any] | None = None, rng: random.Random | None = None,
    where: ColumnElement[bool] | None = None,
) -> tuple[Key, int] | None:
    """Claim a random free id (optionally within ``filters``, e.g. one physnet, and ``where``,
    e.g. a project's segment ranges); None if none is free. Raises RetryRequest when a
    concurrent transaction claimed the chosen row first."""
    c = t.table.c
    stmt = select(*[c[k] for k in t.key_columns], c[t.id_column]).where(c.allocated.is_(False))
    for name, value in (filters or {}).items():
        stmt = stmt.where(c[name] == value)
    if where is not None:
        stmt = stmt.where(where)
    conn = session.connection()
    rows = [tuple(r) for r in conn.execute(stmt.limit(SELECT_SIZE))]
    pick = ranges.choose(rows, rng)
    if pick is None:
        return None
    key, seg_id = tuple(pick[:-1]), int(pick[-1])  # type: ignore[call-overload]
    _claim(session, t, key, seg_id)
    return key, seg_id


def _claim(session: Session, t: AllocTable, key: Key, seg_id: int) -> None:
    stmt = update(t.table).where(t.pk(key, seg_id), t.table.c.allocated.is_(False)).values(allocated=True)
    if session.connection().execute(stmt).rowcount != 1:
        raise RetryRequest(f"{t.table.name} {key} {seg_id} was taken concurrently")


def reserve_specific(session: Session, t: AllocTable, key: Key, seg_id: int) -> bool:
    """Take exactly ``seg_id``: True if reserved, False if it is already allocated."""
    conn = session.connection()
    allocated = conn.execute(select(t.table.c.allocated).where(t.pk(key, seg_id))).first()
    if allocated is None:
        # outside the ranges: a row of its own (a concurrent insert is an IntegrityError -> retry)
        values = dict(zip(t.key_columns, key, strict=True))
        conn.execute(insert(t.table).values(**values, **{t.id_column: seg_id}, allocated=True))
        return True
    if allocated[0]:
        return False
    _claim(session, t, key, seg_id)
    return True


def release(session: Session, t: AllocTable, key: Key, seg_id: int, *, in_range: bool) -> None:
    conn = session.connection()
    if in_range:
        conn.execute(update(t.table).where(t.pk(key, seg_id)).values(allocated=False))
    else:
        conn.execute(delete(t.table).where(t.pk(key, seg_id)))


def sync(session: Session, t: AllocTable, wanted: Mapping[Key, set[int]]) -> tuple[int, int]:
    """Add rows for configured ids that have none, delete free rows no longer configured
    (allocated rows always stay). Returns (added, deleted)."""
    c = t.table.c
    conn = session.connection()
    existing: dict[Key, dict[int, bool]] = defaultdict(dict)
    for row in conn.execute(select(*[c[k] for k in t.key_columns], c[t.id_column], c.allocated)):
        existing[tuple(row[:-2])][int(row[-2])] = bool(row[-1])
    stale: dict[Key, list[int]] = defaultdict(list)
    for key, ids in existing.items():
        want = wanted.get(key, set())
        stale[key].extend(i for i, allocated in ids.items() if not allocated and i not in want)
    deleted = 0
    for key, ids in stale.items():
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            clauses = [c[name] == value for name, value in zip(t.key_columns, key, strict=True)]
            stmt = delete(t.table).where(*clauses, c[t.id_column].in_(chunk), c.allocated.is_(False))
            deleted += conn.execute(stmt).rowcount or 0
    new_rows = [
        {**dict(zip(t.key_columns, key, strict=True)), t.id_column: i, "allocated": False}
        for key, want in wanted.items()
        for i in sorted(want - existing.get(key, {}).keys())
    ]
    for start in range(0, len(new_rows), CHUNK):
        conn.execute(insert(t.table), new_rows[start : start + CHUNK])
    return len(new_rows), deleted
