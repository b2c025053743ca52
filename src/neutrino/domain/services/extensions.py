"""Extensions of a core resource: extra attributes and rules around networks and ports.

This is Neutron's extension-driver idea made explicit. Each extension (provider segments,
external networks, port bindings, security groups, address pairs, ...) lives in its own
module and hooks into the core service at fixed points, inside the same transaction:

* ``after_create``: the core row exists (``obj`` carries its attributes); validate the
  extension's part of ``data`` and store it; raise a NeutronError to roll everything back.
* ``before_update``: apply the extension's part of ``data``; return True if anything changed
  (the core service then bumps the revision).
* ``clear_before_delete``: remove what goes with the resource before the core service checks
  it is unused (Neutron's BEFORE_DELETE callbacks, e.g. an external network's unassociated
  floating IPs); a later refusal rolls it back with the rest.
* ``before_delete``: refuse (raise) or clean up before the core row goes.
* ``delete_probe``: optional, a SQL test over the core row of whether ``before_delete`` has
  anything to do for it (rows that hang off it, an owner that refuses). A port delete answers
  every extension's probe in one statement (``probe_before_delete``) and skips the hooks whose
  answer is no: most ports have no floating IP, trunk or forwarding, and reading each of those
  on its own was most of a delete's statements.
* ``render``: add the extension's attributes to the API dicts, batched over all rows.
* ``filters``: list filters on the extension's attributes, as SQL clauses over the core table.

The order of a server's ``Domain.network_extensions`` / ``port_extensions`` (built once by
``services.enabled.assemble``) is the order hooks run in.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from neutrino.db.by_ids import ByIds
from neutrino.domain.context import Context

if TYPE_CHECKING:  # a type only: the wiring module holds the extensions of a server
    from neutrino.domain.wiring import Domain


class Extension:
    """Base with no-op hooks; subclasses override what they need."""

    name = "extension"
    filters: dict[str, Callable[[list[Any]], ColumnElement[bool]]] = {}

    def after_create(
        self, session: Session, ctx: Context, cfg: Domain, obj: Any, data: dict[str, Any]
    ) -> None:
        return None

    def before_update(
        self, session: Session, ctx: Context, cfg: Domain, obj: Any, data: dict[str, Any]
    ) -> bool:
        return False

    def clear_before_delete(self, session: Session, ctx: Context, cfg: Domain, obj: Any) -> None:
        return None

    def before_delete(self, session: Session, ctx: Context, cfg: Domain, obj: Any) -> None:
        return None

    def delete_probe(self, table: Table) -> ColumnElement[bool] | None:
        """Whether ``before_delete`` has anything to do for the row of ``table`` being deleted
        (a test over its columns, usually a correlated EXISTS); None: the hook always runs.
        Answered after the row is read FOR UPDATE, so a row with a foreign key to it that would
        make the answer yes is either there already or waits on that lock and then fails its
        check (a row without one, a tag, could be added just after, as before the probes)."""
        return None

    def render(self, db: Session | Connection, rows: list[Any], dicts: list[dict[str, Any]]) -> None:
        return None


def after_create(
    registry: Sequence[Extension], session: Session, ctx: Context, cfg: Domain, obj: Any, data: dict[str, Any]
) -> None:
    for ext in registry:
        ext.after_create(session, ctx, cfg, obj, data)


def before_update(
    registry: Sequence[Extension], session: Session, ctx: Context, cfg: Domain, obj: Any, data: dict[str, Any]
) -> bool:
    changed = False
    for ext in registry:
        changed = ext.before_update(session, ctx, cfg, obj, data) or changed
    return changed


def clear_before_delete(
    registry: Sequence[Extension], session: Session, ctx: Context, cfg: Domain, obj: Any
) -> None:
    for ext in registry:
        ext.clear_before_delete(session, ctx, cfg, obj)


def before_delete(
    registry: Sequence[Extension], session: Session, ctx: Context, cfg: Domain, obj: Any,
    needed: Sequence[bool] | None = None,
) -> None:  # fmt: skip
    """``needed``: from ``probe_before_delete``, which hooks have anything to do (None: all)."""
    for i, ext in enumerate(registry):
        if needed is None or needed[i]:
            ext.before_delete(session, ctx, cfg, obj)


@functools.lru_cache(maxsize=16)
def _probes(
    registry: tuple[Extension, ...], table: Table, extra: tuple[ColumnElement[bool], ...]
) -> tuple[ByIds | None, tuple[int | None, ...]]:
    """The one statement answering the probes of a registry (and ``extra``), built once per
    server (its registry is fixed), and where each extension's answer is in its row."""
    columns: list[ColumnElement[bool]] = list(extra)
    slots: list[int | None] = []
    for ext in registry:
        probe = ext.delete_probe(table)
        slots.append(None if probe is None else len(columns))
        if probe is not None:
            columns.append(probe)
    if not columns:
        return None, tuple(slots)
    labelled = [c.label(f"probe_{i}") for i, c in enumerate(columns)]
    return ByIds(lambda cond: select(*labelled).where(cond(table.c.id))), tuple(slots)


def probe_before_delete(
    registry: tuple[Extension, ...], conn: Connection, table: Table, row_id: str,
    extra: tuple[ColumnElement[bool], ...] = (),
) -> tuple[list[bool], list[bool]]:  # fmt: skip
    """(which of the registry's ``before_delete`` hooks have anything to do for the row,
    the answers to ``extra``), in one statement: hooks without a probe always run. ``extra``
    must be the same tuple object at each call (the statement is cached under it)."""
    stmt, slots = _probes(registry, table, extra)
    found = next(stmt.rows(conn, [row_id]), None) if stmt is not None else None
    if found is None:  # nothing to ask, or the row is gone (not expected: the caller holds its lock)
        return [True] * len(registry), [True] * len(extra)
    return [True if i is None else bool(found[i]) for i in slots], [bool(v) for v in found[: len(extra)]]


def render(registry: Sequence[Extension], db: Session | Connection, rows: list[Any], dicts: list[dict[str, Any]]) -> None:
    if rows:
        for ext in registry:
            ext.render(db, rows, dicts)


def filter_clauses(registry: Sequence[Extension], filters: dict[str, list[Any]]) -> list[ColumnElement[bool]]:
    clauses = []
    for name, values in filters.items():
        for ext in registry:
            make = ext.filters.get(name)
            if make is not None:
                clauses.append(make(values))
                break
    return clauses


def filter_names(registry: Sequence[Extension]) -> frozenset[str]:
    return frozenset(name for ext in registry for name in ext.filters)
