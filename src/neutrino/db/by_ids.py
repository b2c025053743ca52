"""A read over a set of ids, built once in two compiled forms: ``= :id`` and ``IN (:ids)``.

Why: render code reads the rows hanging off a page of resources (a network's QoS binding, DNS
domain, zones, ...) on every GET. Building a ``select`` per request costs several times what
running it costs on SQLite, and an expanding ``IN`` is re-rendered at each execution, which
triples the cost of a one-id read (a show). A ``ByIds`` is built at import. More than one id
run the ``IN`` form through SQLAlchemy, 500 ids per statement (under SQLite's bound-parameter
limit). One id (a show, seven such reads per network GET) runs the equality form compiled once
per dialect, on the driver's cursor of the same connection and transaction: SQLAlchemy's
execution machinery costs some 60 microseconds a statement, the statement itself on SQLite a
few. So the columns of a ``ByIds`` must need no result conversion (text, integers; a datetime
only to sort by, which SQLite returns as its ISO text), and its rows are plain tuples.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement

CHUNK = 500

Condition = Callable[[Any], ColumnElement[bool]]


def _one(column: Any) -> ColumnElement[bool]:
    return column == bindparam("id")  # type: ignore[no-any-return]


def _many(column: Any) -> ColumnElement[bool]:
    return column.in_(bindparam("ids", expanding=True))  # type: ignore[no-any-return]


class _Compiled:
    """One statement compiled for one dialect: its SQL and how to order its parameters."""

    def __init__(self, stmt: Any, dialect: Any) -> None:
        self.compiled = stmt.compile(dialect=dialect)
        self.sql = str(self.compiled)
        self.positions = self.compiled.positiontup if self.compiled.positional else None

    def params(self, values: dict[str, Any]) -> Any:
        bound = self.compiled.construct_params(values)
        if self.positions is None:
            return bound
        return tuple(bound[name] for name in self.positions)


class ByIds:
    """``build(cond)`` returns the statement with ``cond(id_column)`` as its id condition; it is
    called twice, here. Other bound parameters are passed to ``rows`` by name."""

    def __init__(self, build: Callable[[Condition], Any]) -> None:
        self.one = build(_one)
        self.many = build(_many)
        self._compiled: dict[str, _Compiled] = {}

    def rows(self, conn: Connection, ids: Sequence[str], **params: Any) -> Iterator[tuple[Any, ...]]:
        if len(ids) == 1:
            yield from self._driver_rows(conn, {"id": ids[0], **params})
            return
        for start in range(0, len(ids), CHUNK):
            yield from conn.execute(self.many, {"ids": list(ids[start : start + CHUNK]), **params})

    def _driver_rows(self, conn: Connection, values: dict[str, Any]) -> list[tuple[Any, ...]]:
        dialect = conn.dialect
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = _Compiled(self.one, dialect)
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(compiled.sql, compiled.params(values))
            return [tuple(r) for r in cursor.fetchall()]
        finally:
            cursor.close()
