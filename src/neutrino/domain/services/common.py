"""Helpers every resource service shares: revisions, quotas, tags loading."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.config import DomainConfig
from neutrino.domain.context import Context
from neutrino.domain.models import Quota, Tag


def check_revision(obj: Any, if_match: int | None) -> None:
    if if_match is not None and obj.revision_number != if_match:
        raise errors.RevisionNumberConstraintFailed(expected=if_match, current=obj.revision_number)


_QUOTA = select(Quota.limit).where(
    Quota.project_id == bindparam("project_id"), Quota.resource == bindparam("resource")
)
_COUNTERS: dict[Any, Any] = {}


def quota_limit(session: Session, cfg: DomainConfig, project_id: str, resource: str) -> int:
    limit = session.connection().execute(_QUOTA, {"project_id": project_id, "resource": resource}).scalar()
    if limit is not None:
        return int(limit)
    return cfg.quotas.get(resource, -1)


def enforce_quota(
    session: Session, cfg: DomainConfig, project_id: str, resource: str, model: Any, adding: int = 1
) -> None:
    """Count inside the transaction: with BEGIN IMMEDIATE (SQLite) this cannot be raced; on
    PostgreSQL writers run concurrently, so a transaction-scoped advisory lock per project and
    resource makes the count-and-insert of two creates take turns."""
    limit = quota_limit(session, cfg, project_id, resource)
    if limit < 0:
        return
    if session.get_bind().dialect.name == "postgresql":
        digest = hashlib.blake2b(f"quota/{project_id}/{resource}".encode(), digest_size=8).digest()
        session.execute(select(func.pg_advisory_xact_lock(int.from_bytes(digest, "big", signed=True))))
    counter = _COUNTERS.get(model)
    if counter is None:
        counter = select(func.count()).select_from(model).where(model.project_id == bindparam("project_id"))
        _COUNTERS[model] = counter
    used = session.connection().execute(counter, {"project_id": project_id}).scalar()
    if (used or 0) + adding > limit:
        raise errors.OverQuota(overs=f"['{resource}']")


def tags_by_resource(session: Session, ids: Iterable[str]) -> dict[str, list[str]]:
    ids = list(ids)
    out: dict[str, list[str]] = defaultdict(list)
    if not ids:
        return out
    for chunk in _chunks(ids):
        for rid, tag in session.execute(
            select(Tag.resource_id, Tag.tag).where(Tag.resource_id.in_(chunk)).order_by(Tag.tag)
        ):
            out[rid].append(tag)
    return out


def delete_tags(session: Session, resource_id: str) -> None:
    session.execute(delete(Tag).where(Tag.resource_id == resource_id))


def _chunks(ids: list[str], size: int = 500) -> Iterable[list[str]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def ts(value: Any) -> str:
    """Neutron's timestamp format (isoformat is several times faster than strftime)."""
    return value.isoformat(timespec="seconds") + "Z"


def standard_fields(obj: Any, tags: list[str]) -> dict[str, Any]:
    project_id, created, updated = obj.project_id, obj.created_at, obj.updated_at
    created_text = ts(created)
    return {
        "tenant_id": project_id,
        "project_id": project_id,
        "description": obj.description,
        "created_at": created_text,
        # most rows were never updated: one formatting for both (a list of 500 renders them all)
        "updated_at": created_text if updated == created else ts(updated),
        "revision_number": obj.revision_number,
        "tags": tags,
    }


def apply_updates(obj: Any, data: dict[str, Any], allowed: Iterable[str]) -> bool:
    changed = False
    for key in allowed:
        if key in data and getattr(obj, key) != data[key]:
            setattr(obj, key, data[key])
            changed = True
    return changed


def ensure_owner_or_admin(ctx: Context, project_id: str, action: str) -> None:
    if not ctx.owns(project_id):
        raise errors.PolicyNotAuthorized(action=f"rule:{action}")
