"""The tag sub-resource API (standard-attr-tag) for any tagged resource.

Changing tags counts as a change of the resource: its revision_number goes up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.context import Context
from neutrino.domain.models import Tag

MAX_TAGS = 50
MAX_TAG_LEN = 255

Getter = Callable[[Session, Context, str], Any]


def validate_tag(tag: Any) -> str:
    if not isinstance(tag, str) or not tag or len(tag) > MAX_TAG_LEN:
        raise errors.InvalidInput(error_message=f"'{tag}' is not a valid tag")
    if "," in tag:
        raise errors.InvalidInput(error_message=f"'{tag}' contains a comma, which tags may not")
    return tag


def validate_tags(tags: Any) -> list[str]:
    if not isinstance(tags, list):
        raise errors.InvalidInput(error_message=f"'{tags}' is not a list")
    if len(tags) > MAX_TAGS:
        raise errors.InvalidInput(error_message=f"Number of tags exceeds the limit of {MAX_TAGS}")
    seen: list[str] = []
    for t in tags:
        validate_tag(t)
        if t not in seen:
            seen.append(t)
    return seen


def _current(session: Session, resource_id: str) -> list[str]:
    return list(session.scalars(select(Tag.tag).where(Tag.resource_id == resource_id).order_by(Tag.tag)))


def _writable(session: Session, ctx: Context, getter: Getter, resource_id: str) -> Any:
    obj = getter(session, ctx, resource_id)
    ctx.require_write("update_tags")
    if not ctx.owns(obj.project_id):
        raise errors.PolicyNotAuthorized(action="rule:update_tags")
    return obj


def get_all(session: Session, ctx: Context, getter: Getter, resource_id: str) -> list[str]:
    getter(session, ctx, resource_id)
    return _current(session, resource_id)


def has(session: Session, ctx: Context, getter: Getter, kind: str, resource_id: str, tag: str) -> None:
    getter(session, ctx, resource_id)
    if session.get(Tag, (resource_id, tag)) is None:
        raise errors.TagNotFound(tag=tag, resource=kind, resource_id=resource_id)


def replace(
    session: Session, ctx: Context, getter: Getter, kind: str, resource_id: str, tags: Any
) -> list[str]:
    wanted = validate_tags(tags)
    obj = _writable(session, ctx, getter, resource_id)
    if wanted != _current(session, resource_id):
        session.execute(sql_delete(Tag).where(Tag.resource_id == resource_id))
        session.add_all(Tag(resource_id=resource_id, tag=t, resource_type=kind) for t in wanted)
        obj.bump_revision()
        session.flush()
    return sorted(wanted)


def add(session: Session, ctx: Context, getter: Getter, kind: str, resource_id: str, tag: str) -> None:
    validate_tag(tag)
    obj = _writable(session, ctx, getter, resource_id)
    if session.get(Tag, (resource_id, tag)) is None:
        if len(_current(session, resource_id)) >= MAX_TAGS:
            raise errors.InvalidInput(error_message=f"Number of tags exceeds the limit of {MAX_TAGS}")
        session.add(Tag(resource_id=resource_id, tag=tag, resource_type=kind))
        obj.bump_revision()
        session.flush()


def remove(session: Session, ctx: Context, getter: Getter, kind: str, resource_id: str, tag: str) -> None:
    obj = _writable(session, ctx, getter, resource_id)
    row = session.get(Tag, (resource_id, tag))
    if row is None:
        raise errors.TagNotFound(tag=tag, resource=kind, resource_id=resource_id)
    session.delete(row)
    obj.bump_revision()
    session.flush()


def remove_all(session: Session, ctx: Context, getter: Getter, resource_id: str) -> None:
    obj = _writable(session, ctx, getter, resource_id)
    if _current(session, resource_id):
        session.execute(sql_delete(Tag).where(Tag.resource_id == resource_id))
        obj.bump_revision()
        session.flush()
