"""Authentication and scope: who is asking, with which password, for which project."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.domain.identity.domains import find_domain
from neutrino.domain.identity.errors import bad_request, unauthorized
from neutrino.domain.identity.passwords import verify_password
from neutrino.domain.models.identity import Project, Role, RoleAssignment, User


def lookup_user(
    session: Session,
    *,
    user_id: str | None = None,
    user_name: str | None = None,
    domain_id: str | None = None,
    domain_name: str | None = None,
) -> User | None:
    """The user named by an auth request (by id, or by name within a domain), or None."""
    if user_id is not None:
        return session.get(User, user_id) if isinstance(user_id, str) else None
    if not isinstance(user_name, str):
        raise bad_request("Expecting to find id or name in user.")
    if domain_id is None and domain_name is None:
        raise bad_request("Expecting to find domain in user.")
    domain = find_domain(domain_id=domain_id, name=domain_name)
    if domain is None:
        return None
    return session.scalar(select(User).where(User.domain_id == domain.id, User.name == user_name))


def verify_user_password(user: User | None, password: object) -> User:
    """Return ``user`` if it is enabled and ``password`` is its password, else raise 401.

    Needs no session: the API checks the (deliberately slow) hash outside any transaction, so
    a login never holds a database lock for the tens of milliseconds a hash takes.
    """
    if not isinstance(password, str):
        raise bad_request("Expecting to find password in user.")
    matches = verify_password(password, user.password_hash if user is not None else None)
    if user is None or not matches or not user.enabled:
        raise unauthorized()
    return user


def authenticate_password(
    session: Session,
    *,
    password: str,
    user_id: str | None = None,
    user_name: str | None = None,
    domain_id: str | None = None,
    domain_name: str | None = None,
) -> User:
    """Look the user up and check its password in one call (401 on any mismatch)."""
    user = lookup_user(
        session, user_id=user_id, user_name=user_name, domain_id=domain_id, domain_name=domain_name
    )
    return verify_user_password(user, password)


def roles_on_project(session: Session, *, user_id: str, project_id: str) -> list[Role]:
    """The roles the user holds on the project, by name."""
    return list(
        session.scalars(
            select(Role)
            .join(RoleAssignment, RoleAssignment.role_id == Role.id)
            .where(RoleAssignment.user_id == user_id, RoleAssignment.project_id == project_id)
            .order_by(Role.name)
        )
    )


def resolve_project_scope(
    session: Session,
    *,
    user_id: str,
    project_id: str | None = None,
    project_name: str | None = None,
    domain_id: str | None = None,
    domain_name: str | None = None,
) -> Project:
    """The project a token is scoped to; 401 unless it exists, is enabled and the user has a role."""
    project: Project | None
    if project_id is not None:
        project = session.get(Project, project_id) if isinstance(project_id, str) else None
    else:
        if not isinstance(project_name, str):
            raise bad_request("Expecting to find id or name in project.")
        if domain_id is None and domain_name is None:
            raise bad_request("Expecting to find domain in project.")
        domain = find_domain(domain_id=domain_id, name=domain_name)
        project = None
        if domain is not None:
            project = session.scalar(
                select(Project).where(Project.domain_id == domain.id, Project.name == project_name)
            )
    if project is None or not project.enabled:
        raise unauthorized()
    if not roles_on_project(session, user_id=user_id, project_id=project.id):
        raise unauthorized(f"User {user_id} has no access to project {project.id}.")
    return project


def default_project(session: Session, user: User) -> Project | None:
    """The user's default project if a token may be scoped to it, else None (unscoped)."""
    if not user.default_project_id:
        return None
    project = session.get(Project, user.default_project_id)
    if project is None or not project.enabled:
        return None
    if not roles_on_project(session, user_id=user.id, project_id=project.id):
        return None
    return project
