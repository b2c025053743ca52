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
* ``render``: add the extension's attributes to the API dicts, batched over all rows.
* ``filters``: list filters on the extension's attributes, as SQL clauses over the core table.

The order of a server's ``Domain.network_extensions`` / ``port_extensions`` (built once by
``services.enabled.assemble``) is the order hooks run in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

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


def before_delete(registry: Sequence[Extension], session: Session, ctx: Context, cfg: Domain, obj: Any) -> None:
    for ext in registry:
        ext.before_delete(session, ctx, cfg, obj)


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
