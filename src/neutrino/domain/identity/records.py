"""The one shape of project and user records: named within a domain, created, listed, found
by id or name, patched attribute by attribute and deleted with their role assignments.

A ``Kind`` says what differs between the two (the table, the word in messages, the longest
name, which attributes a PATCH may set and how each raw value is checked); the functions
here are the rest, so projects and users behave alike (the same 404s, 409s and 400s).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from neutrino.domain.identity.domains import existing_domain_id
from neutrino.domain.identity.errors import bad_request, conflict, name_value, not_found
from neutrino.domain.models.identity import RoleAssignment

Check = Callable[[Session, object], Any]
"""Turns a raw input value into the column value, or raises a 400."""


@dataclass(frozen=True)
class Kind:
    model: Any
    label: str
    """``project`` or ``user``, as Keystone's messages say it."""
    name_limit: int
    assignments: Any
    """The RoleAssignment column that points at a record of this kind."""
    attributes: Mapping[str, tuple[str, Check]]
    """PATCH-able attribute -> (column, check), in the order they are applied."""
    fixed: tuple[str, ...] = ("domain_id",)
    """Attributes a PATCH may repeat but not change."""


def check_name_free(session: Session, kind: Kind, name: str, domain_id: str, own_id: str | None) -> None:
    model = kind.model
    clash = session.scalar(select(model.id).where(model.domain_id == domain_id, model.name == name))
    if clash is not None and clash != own_id:
        raise conflict(kind.label, name, domain_id)


def create(session: Session, kind: Kind, *, name: str, domain_id: str, values: Mapping[str, object]) -> Any:
    """A new record; ``values`` holds every attribute of ``kind.attributes`` (raw input)."""
    name = name_value(name, "name", kind.name_limit)
    domain_id = existing_domain_id(domain_id)
    check_name_free(session, kind, name, domain_id, None)
    columns = {}
    for attribute, (column, check) in kind.attributes.items():
        columns[column] = check(session, values[attribute])
    record = kind.model(name=name, domain_id=domain_id, **columns)
    session.add(record)
    session.flush()
    return record


def get(session: Session, kind: Kind, record_id: str) -> Any:
    record = session.get(kind.model, record_id)
    if record is None:
        raise not_found(kind.label, record_id)
    return record


def find(session: Session, kind: Kind, ref: str, domain_id: str) -> Any:
    """A record by id or else by name in the domain (for the command line)."""
    model = kind.model
    record = session.get(model, ref) or session.scalar(
        select(model).where(model.domain_id == domain_id, model.name == ref)
    )
    if record is None:
        raise not_found(kind.label, ref)
    return record


def list_(session: Session, kind: Kind, *, name: str | None, domain_id: str | None, enabled: bool | None) -> list[Any]:
    model = kind.model
    query = select(model).order_by(model.name, model.id)
    if name is not None:
        query = query.where(model.name == name)
    if domain_id is not None:
        query = query.where(model.domain_id == domain_id)
    if enabled is not None:
        query = query.where(model.enabled == enabled)
    return list(session.scalars(query))


def update(session: Session, kind: Kind, record_id: str, changes: Mapping[str, Any]) -> Any:
    """Apply a PATCH body; unknown attributes are ignored, changes to fixed ones refused."""
    record = get(session, kind, record_id)
    for attribute in kind.fixed:
        if attribute in changes and changes[attribute] != getattr(record, attribute):
            raise bad_request(f"Cannot change the {attribute} of a {kind.label}.")
    if "name" in changes:
        name = name_value(changes["name"], "name", kind.name_limit)
        check_name_free(session, kind, name, record.domain_id, record.id)
        record.name = name
    for attribute, (column, check) in kind.attributes.items():
        if attribute in changes:
            setattr(record, column, check(session, changes[attribute]))
    session.flush()
    return record


def remove(session: Session, kind: Kind, record_id: str) -> None:
    record = get(session, kind, record_id)
    session.execute(delete(RoleAssignment).where(kind.assignments == record.id))
    session.delete(record)
    session.flush()
