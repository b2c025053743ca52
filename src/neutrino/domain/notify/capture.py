"""The rows a writer's transactions change, read from the statements its connections run.

Writes reach the database three ways: the ORM's flush, core statements on the session
(``session.execute(delete(...))``) and core statements on its connection; the database then
cascades deletes on its own. Listening to the engine's ``before_execute`` sees the first three
alike, as INSERT/UPDATE/DELETE constructs with their parameters. An insert's rows are its
parameters. An update's or delete's rows are read first, with the statement's own WHERE
clause, on the same connection: their old values (a port's old host, a deleted port's
network) name hosts that the state after the commit no longer does, so keys from old rows
are resolved right there, before the write and its cascades, once per transaction; a port's
only as far as the rows that hang off it (``hosts.STAGED``). What remains (the keys of new
rows, and the far ends of a port's) is resolved after the commit, by the notifier. A
rolled-back transaction's harvest is dropped.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, event, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.dml import Delete, Insert, Update
from sqlalchemy.sql.elements import BindParameter

from neutrino.domain.notify.changes import TABLES, UPDATES_UNPROJECTED, Key, RowChange, keys_of, moves
from neutrino.domain.notify.hosts import Hints, resolve_before

LOG = logging.getLogger(__name__)

INFO_KEY = "neutrino.notify.harvest"
COMMITTED_KEY = "neutrino.notify.committed"


@dataclass
class Harvest:
    """What one transaction touched: hosts already resolved from old rows, keys still to resolve."""

    hosts: dict[str, Hints] = field(default_factory=dict)
    keys: set[Key] = field(default_factory=set)
    resolved: set[Key] = field(default_factory=set)
    """Keys already answered before a write of this transaction (``Capture._record``)."""

    def add_hosts(self, found: dict[str, Hints]) -> None:
        for host, hints in found.items():
            self.hosts.setdefault(host, Hints()).merge(hints)

    def merge(self, other: Harvest) -> None:
        self.add_hosts(other.hosts)
        self.keys |= other.keys

    def __bool__(self) -> bool:
        return bool(self.hosts or self.keys)


def _literal(value: Any) -> Any:
    if isinstance(value, BindParameter):
        value = value.value
    return value if isinstance(value, (str, int, bool)) or value is None else None


def _param_sets(multiparams: Any, params: Any) -> list[dict[str, Any]]:
    sets: list[dict[str, Any]] = []
    for item in multiparams or ():
        if isinstance(item, dict):
            sets.append(item)
        elif isinstance(item, (list, tuple)):
            sets.extend(p for p in item if isinstance(p, dict))
    if params:
        sets.append(dict(params))
    return sets or [{}]


def _set_values(stmt: Insert | Update, table: Table, params: dict[str, Any]) -> dict[str, Any]:
    """The columns a statement sets, with their value where it is a plain one."""
    out: dict[str, Any] = {}
    for col, value in (getattr(stmt, "_values", None) or {}).items():
        name = getattr(col, "key", col)
        out[str(name)] = _literal(value)
    for name in params:
        if name in table.c:
            out[name] = _literal(params[name])
    return out


def _insert_rows(stmt: Insert, table: Table, sets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    multi = getattr(stmt, "_multi_values", None)
    if multi:
        return [{str(getattr(c, "key", c)): _literal(v) for c, v in row.items()} if isinstance(row, dict) else {}
                for values in multi for row in values]  # fmt: skip
    return [_set_values(stmt, table, p) for p in sets]


class Capture:
    """Listens to one engine's writes and calls ``on_commit(harvest)`` once a transaction's
    commit is done: the engine's ``commit`` event comes before the database commits, so the
    harvest waits on the connection until it goes back to the pool (``checkin``), when what it
    wrote is visible to every reader."""

    def __init__(self, engine: Engine, on_commit: Callable[[Harvest], None]) -> None:
        self.engine = engine
        self.on_commit = on_commit
        self._local = threading.local()
        # a statement built once and run again and again (a module's prebuilt DELETE, the ORM's
        # own UPDATE per mapper) reads its old rows with the same SELECT: built once too
        # (building one costs three times what running it costs on SQLite); weak, so that
        # statements built per request go with them
        self._old_rows: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()

    def _old_rows_query(self, stmt: Update | Delete, table: Table) -> Any:
        query = self._old_rows.get(stmt)
        if query is None:
            query = select(table)
            if stmt.whereclause is not None:
                query = query.where(stmt.whereclause)
            self._old_rows[stmt] = query
        return query

    def start(self) -> None:
        if not event.contains(self.engine, "before_execute", self._before_execute):
            event.listen(self.engine, "before_execute", self._before_execute)
            event.listen(self.engine, "commit", self._commit)
            event.listen(self.engine, "rollback", self._rollback)
            event.listen(self.engine, "checkin", self._checkin)

    def stop(self) -> None:
        if event.contains(self.engine, "before_execute", self._before_execute):
            event.remove(self.engine, "before_execute", self._before_execute)
            event.remove(self.engine, "commit", self._commit)
            event.remove(self.engine, "rollback", self._rollback)
            event.remove(self.engine, "checkin", self._checkin)

    def _harvest(self, conn: Connection) -> Harvest:
        found = conn.info.get(INFO_KEY)
        if found is None:
            found = conn.info[INFO_KEY] = Harvest()
        return found

    def _commit(self, conn: Connection) -> None:
        harvest = conn.info.pop(INFO_KEY, None)
        if harvest:
            conn.info.setdefault(COMMITTED_KEY, Harvest()).merge(harvest)

    def _checkin(self, dbapi_connection: Any, record: Any) -> None:
        harvest = record.info.pop(COMMITTED_KEY, None) if record is not None else None
        if harvest:
            self.on_commit(harvest)

    def _rollback(self, conn: Connection) -> None:
        conn.info.pop(INFO_KEY, None)

    def _before_execute(self, conn: Connection, stmt: Any, multiparams: Any, params: Any, options: Any) -> None:
        if getattr(self._local, "busy", False) or not isinstance(stmt, (Insert, Update, Delete)):
            return
        table = stmt.table
        if not isinstance(table, Table) or table.name not in TABLES:
            return
        if isinstance(stmt, Update) and table.name in UPDATES_UNPROJECTED:
            return
        self._local.busy = True
        try:
            self._record(conn, stmt, table, _param_sets(multiparams, params))
        except Exception:  # noqa: BLE001 - never fail a write; agents still resync periodically
            LOG.exception("notify: could not read what a write to %s changes", table.name)
        finally:
            self._local.busy = False

    def _record(self, conn: Connection, stmt: Any, table: Table, sets: list[dict[str, Any]]) -> None:
        harvest = self._harvest(conn)
        if isinstance(stmt, Insert):
            for row in _insert_rows(stmt, table, sets):
                harvest.keys |= keys_of(RowChange(table.name, new=row))
            return
        changes: list[RowChange] = []
        query = self._old_rows_query(stmt, table)
        for p in sets:
            # an ORM update keys its WHERE values by label and its SET values by column; a delete
            # keys its WHERE values by column
            where = p if isinstance(stmt, Delete) else {k: v for k, v in p.items() if k not in table.c}
            old_rows = [dict(r._mapping) for r in conn.execute(query, where)]
            if isinstance(stmt, Delete):
                changes += [RowChange(table.name, old=row) for row in old_rows]
                continue
            values = _set_values(stmt, table, p)
            for row in old_rows:
                new = {**row, **{k: v for k, v in values.items() if v is not None}}
                changed = frozenset(k for k in values if values[k] is None or row.get(k) != values[k])
                changes.append(RowChange(table.name, old=row, new=new, changed=changed))
        before: set[Key] = set()
        for change in changes:
            keys = keys_of(change)
            harvest.keys |= keys
            if moves(change):
                before |= keys
        # a key answered before an earlier write of this transaction (a port's addresses go
        # before the port) saw the rows as committed or as this transaction left them, whose
        # own writes were answered: agents never see the states in between
        before -= harvest.resolved
        if before:
            harvest.resolved |= before
            hosts, later = resolve_before(conn, before)
            harvest.add_hosts(hosts)
            harvest.keys |= later
