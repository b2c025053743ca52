"""Roles and role assignments: direct user-on-project grants."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.domain.identity.authn import roles_on_project
from neutrino.domain.identity.errors import IdentityError, conflict, error, name_value, not_found
from neutrino.domain.identity.projects import get_project
from neutrino.domain.identity.users import get_user
from neutrino.domain.models.identity import Project, Role, RoleAssignment, User


def create_role(session: Session, *, name: str) -> Role:
    name = name_value(name, "name", 255)
    if session.scalar(select(Role.id).where(Role.name == name)) is not None:
        raise conflict("role", name)
    role = Role(name=name)
    session.add(role)
    session.flush()
    return role


def list_roles(session: Session, *, name: str | None = None) -> list[Role]:
    query = select(Role).order_by(Role.name)
    if name is not None:
        query = query.where(Role.name == name)
    return list(session.scalars(query))


def get_role(session: Session, *, role_id: str) -> Role:
    role = session.get(Role, role_id)
    if role is None:
        raise not_found("role", role_id)
    return role


def find_role(session: Session, *, ref: str) -> Role:
    """A role by id or else by name (for the command line)."""
    role = session.get(Role, ref) or session.scalar(select(Role).where(Role.name == ref))
    if role is None:
        raise not_found("role", ref)
    return role


def _grant_parts(session: Session, user_id: str, project_id: str, role_id: str) -> None:
    get_project(session, project_id=project_id)
    get_user(session, user_id=user_id)
    get_role(session, role_id=role_id)


def _assignment_not_found(user_id: str, project_id: str, role_id: str) -> IdentityError:
    return error(
        404,
        f"Could not find role assignment with role: {role_id}, user or group: {user_id}, "
        f"project, domain, or system: {project_id}.",
    )


def assign_role(session: Session, *, user_id: str, project_id: str, role_id: str) -> None:
    """Grant the role (idempotent); 404 if the user, project or role does not exist."""
    _grant_parts(session, user_id, project_id, role_id)
    if session.get(RoleAssignment, (user_id, project_id, role_id)) is None:
        session.add(RoleAssignment(user_id=user_id, project_id=project_id, role_id=role_id))
        session.flush()


def check_role_assignment(session: Session, *, user_id: str, project_id: str, role_id: str) -> None:
    """Return quietly if the grant exists, else 404 (what HEAD on a grant answers)."""
    _grant_parts(session, user_id, project_id, role_id)
    if session.get(RoleAssignment, (user_id, project_id, role_id)) is None:
        raise _assignment_not_found(user_id, project_id, role_id)


def unassign_role(session: Session, *, user_id: str, project_id: str, role_id: str) -> None:
    _grant_parts(session, user_id, project_id, role_id)
    row = session.get(RoleAssignment, (user_id, project_id, role_id))
    if row is None:
        raise _assignment_not_found(user_id, project_id, role_id)
    session.delete(row)
    session.flush()


def list_user_project_roles(session: Session, *, user_id: str, project_id: str) -> list[Role]:
    get_project(session, project_id=project_id)
    get_user(session, user_id=user_id)
    return roles_on_project(session, user_id=user_id, project_id=project_id)


def list_user_projects(session: Session, *, user_id: str) -> list[Project]:
    """Projects on which the user holds at least one role."""
    return list(
        session.scalars(
            select(Project)
            .where(
                Project.id.in_(
                    select(RoleAssignment.project_id).where(RoleAssignment.user_id == user_id)
                )
            )
            .order_by(Project.name, Project.id)
        )
    )


class Assignment(NamedTuple):
    user: User
    project: Project
    role: Role


def list_role_assignments(
    session: Session,
    *,
    user_id: str | None = None,
    project_id: str | None = None,
    role_id: str | None = None,
) -> list[Assignment]:
    """Direct user-on-project grants (neutrino has no groups, domains grants or inheritance)."""
    query = (
        select(User, Project, Role)
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .join(Project, Project.id == RoleAssignment.project_id)
        .join(Role, Role.id == RoleAssignment.role_id)
        .order_by(User.name, Project.name, Role.name)
    )
    if user_id is not None:
        query = query.where(RoleAssignment.user_id == user_id)
    if project_id is not None:
        query = query.where(RoleAssignment.project_id == project_id)
    if role_id is not None:
        query = query.where(RoleAssignment.role_id == role_id)
    return [Assignment(*row) for row in session.execute(query)]
