"""A read over a set of ids, built once in two compiled forms: ``= :id`` and ``IN (:ids)``.

Why: render code reads the rows hanging off a page of resources (a network's QoS binding, DNS
domain, zones, ...) on every GET. Building a ``select`` per request costs several times what
running it costs on SQLite, and an expanding ``IN`` is re-rendered at each execution, which
triples the cost of a one-id read (a show). A ``ByIds`` is built at import: one id runs the
plain equality, whose compiled form SQLAlchemy reuses as is; more run the ``IN`` form, 500 ids
per statement (under SQLite's bound-parameter limit).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql import ColumnElement

CHUNK = 500

Condition = Callable[[Any], ColumnElement[bool]]


def _one(column: Any) -> ColumnElement[bool]:
    return column == bindparam("id")  # type: ignore[no-any-return]


def _many(column: Any) -> ColumnElement[bool]:
    return column.in_(bindparam("ids", expanding=True))  # type: ignore[no-any-return]


class ByIds:
    """``build(cond)`` returns the statement with ``cond(id_column)`` as its id condition; it is
    called twice, here. Other bound parameters are passed to ``rows`` by name."""

    def __init__(self, build: Callable[[Condition], Any]) -> None:
        self.one = build(_one)
        self.many = build(_many)

    def rows(self, conn: Connection, ids: Sequence[str], **params: Any) -> Iterator[Row[Any]]:
        if len(ids) == 1:
            yield from conn.execute(self.one, {"id": ids[0], **params})
            return
        for start in range(0, len(ids), CHUNK):
            yield from conn.execute(self.many, {"ids": list(ids[start : start + CHUNK]), **params})
