"""Who may use an object through RBAC: SQL clauses the services add to their visibility rules.

A project P may use object O for action A when a policy (O, A) targets P or ``*``. The owner's
own access never needs a policy. Services combine ``granted`` with their owner check.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, bindparam, delete, exists, false, or_, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from neutrino.db.by_ids import ByIds
from neutrino.domain.models.rbac import ACCESS_EXTERNAL, ACCESS_SHARED, WILDCARD, RbacPolicy

__all__ = ["ACCESS_EXTERNAL", "ACCESS_SHARED", "WILDCARD", "granted", "has_grant", "delete_policies_of"]


def granted(
    object_type: str, id_column: Any, project_id: str | None, actions: tuple[str, ...] = (ACCESS_SHARED,),
    *, wildcard: bool = True,
) -> ColumnElement[bool]:
    """EXISTS a policy of one of ``actions`` on the row's object for ``project_id`` (or ``*``)."""
    targets = ([WILDCARD] if wildcard else []) + ([project_id] if project_id else [])
    return exists().where(
        and_(
            RbacPolicy.object_type == object_type,
            RbacPolicy.object_id == id_column,
            RbacPolicy.action.in_(actions),
            RbacPolicy.target_project.in_(targets),
        )
    )


def shared_filter(
    object_type: str, id_column: Any, shared_column: Any, project_id: str | None, values: list[Any]
) -> ColumnElement[bool]:
    """``?shared=`` as the caller reads ``shared``: a '*' policy (the cached column) or an
    access_as_shared policy for its own project."""
    shared: ColumnElement[bool] = shared_column.is_(True)
    if project_id:
        shared = or_(shared, granted(object_type, id_column, project_id, wildcard=False))
    wanted = {bool(v) for v in values}
    if wanted == {True}:
        return shared
    if wanted == {False}:
        return ~shared
    return true() if wanted else false()


def has_grant(
    session: Any, object_type: str, object_id: str, project_id: str | None,
    actions: tuple[str, ...] = (ACCESS_SHARED,),
) -> bool:
    targets = [WILDCARD] if not project_id else [WILDCARD, project_id]
    found = session.execute(
        select(RbacPolicy.id).where(
            RbacPolicy.object_type == object_type,
            RbacPolicy.object_id == object_id,
            RbacPolicy.action.in_(actions),
            RbacPolicy.target_project.in_(targets),
        ).limit(1)
    ).first()
    return found is not None


def targets_of(session: Session, object_type: str, object_id: str, action: str) -> set[str]:
    """The projects (and ``*``) a policy of ``action`` on the object targets."""
    return set(
        session.scalars(
            select(RbacPolicy.target_project).where(
                RbacPolicy.object_type == object_type,
                RbacPolicy.object_id == object_id,
                RbacPolicy.action == action,
            )
        )
    )


def delete_policies_of(session: Session, object_type: str, object_id: str) -> None:
    """An object's policies go with it (no foreign key: the table serves every type)."""
    session.execute(
        delete(RbacPolicy).where(RbacPolicy.object_type == object_type, RbacPolicy.object_id == object_id)
    )


def add_policy(session: Session, object_type: str, object_id: str, project_id: str, action: str,
               target: str = WILDCARD) -> None:
    """The policy a flag implies (``shared``, ``router:external``), unless it exists."""
    if target in targets_of(session, object_type, object_id, action):
        return
    session.add(RbacPolicy(project_id=project_id, object_type=object_type, object_id=object_id,
                           action=action, target_project=target))
    session.flush()


def remove_policies(session: Session, object_type: str, object_id: str, action: str,
                    target: str | None = None) -> None:
    stmt = delete(RbacPolicy).where(
        RbacPolicy.object_type == object_type, RbacPolicy.object_id == object_id, RbacPolicy.action == action
    )
    if target is not None:
        stmt = stmt.where(RbacPolicy.target_project == target)
    session.execute(stmt)


_SHARED_WITH = ByIds(lambda cond: select(RbacPolicy.object_id).where(
    RbacPolicy.object_type == bindparam("object_type"),
    cond(RbacPolicy.object_id),
    RbacPolicy.action == ACCESS_SHARED,
    RbacPolicy.target_project == bindparam("project_id"),
))


def shared_with(conn: Any, object_type: str, ids: list[str], project_id: str) -> set[str]:
    """Which of ``ids`` an access_as_shared policy opens to ``project_id`` itself (not ``*``)."""
    if not ids:
        return set()
    return {oid for (oid,) in _SHARED_WITH.rows(conn, ids, object_type=object_type, project_id=project_id)}
