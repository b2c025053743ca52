"""Neutron list semantics applied to a SQL select: filters, tags, sorting, keyset pagination.

The API layer parses the query string into a ``ListQuery``; services map attribute names to
columns and call ``apply``. Pagination is keyset-based (marker = id of the last item seen), so
a page costs the same however deep it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, exists, false, or_, select
from sqlalchemy.sql import ColumnElement, Select

from neutrino import errors
from neutrino.domain.models import Tag


@dataclass
class ListQuery:
    filters: dict[str, list[Any]] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    tags_any: list[str] = field(default_factory=list)
    not_tags: list[str] = field(default_factory=list)
    not_tags_any: list[str] = field(default_factory=list)
    sorts: list[tuple[str, bool]] = field(default_factory=list)  # (key, ascending)
    limit: int | None = None
    marker: str | None = None
    page_reverse: bool = False


def _tag_exists(model: Any, tag: str) -> ColumnElement[bool]:
    return exists().where(and_(Tag.resource_id == model.id, Tag.tag == tag))


def apply_filters(
    stmt: Select[Any], model: Any, q: ListQuery, columns: dict[str, Any]
) -> Select[Any]:
    for name, values in q.filters.items():
        col = columns.get(name)
        if col is None:
            continue  # handled by the service (e.g. fixed_ips)
        if not values:
            stmt = stmt.where(false())
        elif len(values) == 1:
            stmt = stmt.where(col == values[0])
        else:
            stmt = stmt.where(col.in_(values))
    for tag in q.tags:
        stmt = stmt.where(_tag_exists(model, tag))
    if q.tags_any:
        stmt = stmt.where(or_(*[_tag_exists(model, t) for t in q.tags_any]))
    if q.not_tags:
        stmt = stmt.where(~and_(*[_tag_exists(model, t) for t in q.not_tags]))
    for tag in q.not_tags_any:
        stmt = stmt.where(~_tag_exists(model, tag))
    return stmt


def _order(col: Any, asc: bool) -> Any:
    """NULL sorts lowest, as on SQLite (and MySQL): PostgreSQL's default is highest. Only for
    nullable columns, so that ORDER BY id still matches the primary key index."""
    if not getattr(getattr(col, "expression", col), "nullable", False):
        return col.asc() if asc else col.desc()
    return col.asc().nulls_first() if asc else col.desc().nulls_last()


def _after(col: Any, asc: bool, value: Any) -> Any:
    """Rows past ``value`` in ``_order``'s order (NULL lowest); ``col > NULL`` matches nothing."""
    if value is None:
        return col.is_not(None) if asc else false()
    if asc or not getattr(getattr(col, "expression", col), "nullable", False):
        return col > value if asc else col < value
    return or_(col < value, col.is_(None))


def apply_order_and_page(
    session: Any, stmt: Select[Any], model: Any, q: ListQuery, columns: dict[str, Any]
) -> Select[Any]:
    keys = [(columns[k], asc) for k, asc in q.sorts]
    if not any(c is model.id for c, _ in keys):
        keys.append((model.id, True))
    if q.page_reverse:
        keys = [(c, not asc) for c, asc in keys]
    if q.marker:
        marker_row = session.execute(
            select(*[c for c, _ in keys]).where(model.id == q.marker)
        ).first()
        if marker_row is None:
            raise errors.HTTPBadRequest(msg=f"Marker {q.marker} could not be found")
        # (k1 > m1) or (k1 == m1 and k2 > m2) or ...
        clauses = []
        for i, (col, asc) in enumerate(keys):
            eqs = [keys[j][0] == marker_row[j] for j in range(i)]
            clauses.append(and_(*eqs, _after(col, asc, marker_row[i])))
        stmt = stmt.where(or_(*clauses))
    stmt = stmt.order_by(*[_order(c, asc) for c, asc in keys])
    if q.limit:
        stmt = stmt.limit(q.limit)
    return stmt
