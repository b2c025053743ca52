"""A read over a set of ids, built once in two compiled forms: ``= :id`` and ``IN (:ids)``.

Why: render code reads the rows hanging off a page of resources (a network's QoS binding, DNS
domain, zones, ...) on every GET. Building a ``select`` per request costs several times what
running it costs on SQLite. A ``ByIds`` is built at import, and compiled once per dialect: one
id (a show, seven such reads per network GET) runs the equality form, more run the ``IN`` form,
500 ids per statement (under SQLite's bound-parameter limit), its list of placeholders written
out once per length. Both run on the driver's cursor of the same connection and transaction:
SQLAlchemy's execution machinery costs some 60 microseconds a statement (and re-renders an
expanding ``IN`` at each execution, a millisecond for 500 ids), the statement itself on SQLite
a few. So the columns of a ``ByIds`` must need no result conversion (text, integers; a datetime
only to sort by, which SQLite returns as its ISO text), and its rows are plain tuples; or it is
built with ``convert=True``, and each value then goes through its column type's result
processor for the dialect (SQLite's integers to booleans, its text to datetimes), as
SQLAlchemy's own execution would do.
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


_MARKER = "__[POSTCOMPILE_ids]"
_POSITIONAL = {"qmark": "?", "format": "%s"}
_NAMED = {"pyformat": "%({})s", "named": ":{}"}


class _Compiled:
    """One statement compiled for one dialect: its SQL for a number of ids and its parameters
    in the driver's form (the ``IN`` list written out as SQLAlchemy does at each execution)."""

    def __init__(self, stmt: Any, dialect: Any) -> None:
        self.compiled = stmt.compile(dialect=dialect)
        self.sql = str(self.compiled)
        self.style = dialect.paramstyle
        self.positions = self.compiled.positiontup if self.compiled.positional else None
        self._sql_for: dict[int, str] = {}
        self._literals: dict[str, Any] | None = None
        # (position, converter) of each selected column whose type converts the driver's value
        self.processors = [
            (i, proc) for i, col in enumerate(stmt.selected_columns)
            if (proc := col.type.dialect_impl(dialect).result_processor(dialect, None)) is not None
        ]  # fmt: skip

    @staticmethod
    def supports(dialect: Any) -> bool:
        return dialect.paramstyle in _POSITIONAL or dialect.paramstyle in _NAMED

    def statement(self, count: int) -> str:
        found = self._sql_for.get(count)
        if found is None:
            if self.style in _POSITIONAL:
                marks = ", ".join([_POSITIONAL[self.style]] * count)
            else:
                marks = ", ".join(_NAMED[self.style].format(f"ids_{i}") for i in range(count))
            found = self._sql_for[count] = self.sql.replace(_MARKER, marks)
        return found

    def params(self, values: dict[str, Any]) -> Any:
        # the literals' values (the statement's own) once, then the caller's by name: what
        # construct_params returns for these statements, without its checks at each execution
        if self._literals is None:
            self._literals = {k: v for k, v in self.compiled.construct_params(values, _no_postcompile=True).items()
                              if k not in values}  # fmt: skip
        bound = {**self._literals, **values}
        ids = bound.pop("ids", None)
        if self.positions is None:
            if ids is not None:
                bound.update((f"ids_{i}", v) for i, v in enumerate(ids))
            return bound
        out: list[Any] = []
        for name in self.positions:
            if name == "ids":
                out.extend(ids)
            else:
                out.append(bound[name])
        return out


def _padded(ids: list[str]) -> list[str]:
    """The list at the next power of two, its last id repeated (an ``IN`` list means the same):
    one statement text per length is kept here and prepared by the driver (SQLite's keeps 128
    per connection, some 80 KiB for a list of 500), so ten lengths instead of up to 500."""
    size = 1 << (len(ids) - 1).bit_length()
    return ids + [ids[-1]] * (size - len(ids))


class ByIds:
    """``build(cond)`` returns the statement with ``cond(id_column)`` as its id condition; it is
    called twice, here. Other bound parameters are passed to ``rows`` by name."""

    def __init__(self, build: Callable[[Condition], Any], *, convert: bool = False) -> None:
        self.one = build(_one)
        self.many = build(_many)
        self.convert = convert
        self._compiled: dict[tuple[str, bool], _Compiled] = {}

    def rows(self, conn: Connection, ids: Sequence[str], **params: Any) -> Iterator[tuple[Any, ...]]:
        if len(ids) == 1:
            yield from self._driver_rows(conn, self.one, 1, {"id": ids[0], **params})
            return
        for start in range(0, len(ids), CHUNK):
            chunk = _padded(list(ids[start : start + CHUNK]))
            yield from self._driver_rows(conn, self.many, len(chunk), {"ids": chunk, **params})

    def _driver_rows(self, conn: Connection, stmt: Any, count: int, values: dict[str, Any]) -> list[tuple[Any, ...]]:
        dialect = conn.dialect
        if not _Compiled.supports(dialect):  # a driver with another parameter style
            return [tuple(r) for r in conn.execute(stmt, values)]
        key = (dialect.name, stmt is self.one)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = _Compiled(stmt, dialect)
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(compiled.statement(count), compiled.params(values))
            found = cursor.fetchall()
        finally:
            cursor.close()
        if not (self.convert and compiled.processors):
            return [tuple(r) for r in found]
        out = []
        for r in found:
            values_ = list(r)
            for i, proc in compiled.processors:
                values_[i] = proc(values_[i])
            out.append(tuple(values_))
        return out
