"""Identity operations on the store: authentication, scoping, projects, users, roles, grants.

Every function takes the caller's Session and runs inside the caller's transaction, so the API,
the CLI and bootstrap compose them freely. Inputs arrive straight from JSON or the command line,
so the functions validate types themselves and fail with Keystone's status codes: 400 for a bad
value, 401 for anything that fails authentication (without saying which part was wrong), 404
for an unknown id, 409 for a duplicate name.

Keystone's error body is ``{"error": {"code", "title", "message"}}``, not Neutron's fault, so
identity has its own IdentityError instead of reusing neutrino.errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from neutrino.domain.identity.passwords import hash_password, verify_password
from neutrino.domain.models.identity import Project, Role, RoleAssignment, User

AUTH_REQUIRED = "The request you have made requires authentication."
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
}


class IdentityError(Exception):
    """An identity failure with the HTTP status, title and message Keystone would report."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.status, "title": self.title, "message": self.message}}


def _error(status: int, message: str) -> IdentityError:
    return IdentityError(status, TITLES[status], message)


def bad_request(message: str) -> IdentityError:
    return _error(400, message)


def unauthorized(message: str = AUTH_REQUIRED) -> IdentityError:
    return _error(401, message)


def forbidden(action: str) -> IdentityError:
    return _error(403, f"You are not authorized to perform the requested action: {action}.")


def not_found(kind: str, ident: str) -> IdentityError:
    return _error(404, f"Could not find {kind}: {ident}.")


def conflict(kind: str, name: str, domain_id: str | None = None) -> IdentityError:
    where = f" at domain ID {domain_id}" if domain_id else ""
    return _error(
        409,
        f"Conflict occurred attempting to store {kind} - Duplicate entry found with name "
        f"{name}{where}.",
    )


# --- input checks ------------------------------------------------------------------------------


def _name(value: object, field: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise bad_request(f"Invalid input for field '{field}': a non-empty string is required.")
    if len(value) > limit:
        raise bad_request(f"Invalid input for field '{field}': longer than {limit} characters.")
    return value


def _text(value: object, field: str, limit: int = 255) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise bad_request(
            f"Invalid input for field '{field}': a string of at most {limit} characters is required."
        )
    return value


def _flag(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise bad_request(f"Invalid input for field '{field}': {value!r} is not a boolean.")
    return value


# --- domains: one fixed domain, as in a stock Keystone install ---------------------------------


@dataclass(frozen=True)
class Domain:
    id: str
    name: str
    description: str = ""
    enabled: bool = True


DEFAULT_DOMAIN = Domain("default", "Default", "The default domain")
DOMAINS: tuple[Domain, ...] = (DEFAULT_DOMAIN,)


def find_domain(*, domain_id: str | None = None, name: str | None = None) -> Domain | None:
    """The domain with this id (or else this name), None if there is none."""
    for domain in DOMAINS:
        if (domain_id is not None and domain.id == domain_id) or (
            domain_id is None and name is not None and domain.name == name
        ):
            return domain
    return None


def get_domain(domain_id: str) -> Domain:
    domain = find_domain(domain_id=domain_id)
    if domain is None:
        raise not_found("domain", domain_id)
    return domain


def list_domains(*, name: str | None = None) -> list[Domain]:
    return [d for d in DOMAINS if name is None or d.name == name]


def _existing_domain_id(domain_id: object) -> str:
    if not isinstance(domain_id, str) or find_domain(domain_id=domain_id) is None:
        raise bad_request(f"Could not find domain: {domain_id}.")
    return domain_id


# --- authentication and scope ------------------------------------------------------------------


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
    a login never holds a database lock for the tens of milliseconds scrypt takes.
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


# --- projects ---------------------------------------------------------------------------------


def _check_project_name_free(session: Session, name: str, domain_id: str, own_id: str | None) -> None:
    clash = session.scalar(
        select(Project.id).where(Project.domain_id == domain_id, Project.name == name)
    )
    if clash is not None and clash != own_id:
        raise conflict("project", name, domain_id)


def create_project(
    session: Session,
    *,
    name: str,
    domain_id: str = "default",
    description: str | None = "",
    enabled: bool = True,
) -> Project:
    name = _name(name, "name", 64)
    domain_id = _existing_domain_id(domain_id)
    _check_project_name_free(session, name, domain_id, None)
    project = Project(
        name=name,
        domain_id=domain_id,
        description=_text(description, "description"),
        enabled=_flag(enabled, "enabled"),
    )
    session.add(project)
    session.flush()
    return project


def get_project(session: Session, *, project_id: str) -> Project:
    project = session.get(Project, project_id)
    if project is None:
        raise not_found("project", project_id)
    return project


def find_project(session: Session, *, ref: str, domain_id: str = "default") -> Project:
    """A project by id or else by name in the domain (for the command line)."""
    project = session.get(Project, ref) or session.scalar(
        select(Project).where(Project.domain_id == domain_id, Project.name == ref)
    )
    if project is None:
        raise not_found("project", ref)
    return project


def list_projects(
    session: Session,
    *,
    name: str | None = None,
    domain_id: str | None = None,
    enabled: bool | None = None,
) -> list[Project]:
    query = select(Project).order_by(Project.name, Project.id)
    if name is not None:
        query = query.where(Project.name == name)
    if domain_id is not None:
        query = query.where(Project.domain_id == domain_id)
    if enabled is not None:
        query = query.where(Project.enabled == enabled)
    return list(session.scalars(query))


def update_project(session: Session, *, project_id: str, changes: Mapping[str, Any]) -> Project:
    """Apply a PATCH body; unknown attributes are ignored, domain changes are refused."""
    project = get_project(session, project_id=project_id)
    if "domain_id" in changes and changes["domain_id"] != project.domain_id:
        raise bad_request("Cannot change the domain_id of a project.")
    if "id" in changes and changes["id"] != project.id:
        raise bad_request("Cannot change the id of a project.")
    if "name" in changes:
        name = _name(changes["name"], "name", 64)
        _check_project_name_free(session, name, project.domain_id, project.id)
        project.name = name
    if "description" in changes:
        project.description = _text(changes["description"], "description")
    if "enabled" in changes:
        project.enabled = _flag(changes["enabled"], "enabled")
    session.flush()
    return project


def delete_project(session: Session, *, project_id: str) -> None:
    project = get_project(session, project_id=project_id)
    session.execute(delete(RoleAssignment).where(RoleAssignment.project_id == project.id))
    session.delete(project)
    session.flush()


# --- users ------------------------------------------------------------------------------------


def _check_user_name_free(session: Session, name: str, domain_id: str, own_id: str | None) -> None:
    clash = session.scalar(select(User.id).where(User.domain_id == domain_id, User.name == name))
    if clash is not None and clash != own_id:
        raise conflict("user", name, domain_id)


def _default_project_id(session: Session, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or session.get(Project, value) is None:
        raise bad_request(f"Could not find project: {value}.")
    return value


def _password_hash(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise bad_request("Invalid input for field 'password': a non-empty string is required.")
    try:
        return hash_password(value)
    except ValueError as exc:
        raise bad_request(f"Invalid input for field 'password': {exc}.") from exc


def create_user(
    session: Session,
    *,
    name: str,
    password: str | None = None,
    domain_id: str = "default",
    default_project_id: str | None = None,
    enabled: bool = True,
    description: str | None = "",
    email: str | None = None,
) -> User:
    """Create a user; the password is stored only as a salted scrypt hash (None: cannot log in)."""
    name = _name(name, "name", 255)
    domain_id = _existing_domain_id(domain_id)
    _check_user_name_free(session, name, domain_id, None)
    user = User(
        name=name,
        domain_id=domain_id,
        password_hash=_password_hash(password),
        enabled=_flag(enabled, "enabled"),
        default_project_id=_default_project_id(session, default_project_id),
        description=_text(description, "description"),
        email=_text(email, "email") or None,
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, *, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise not_found("user", user_id)
    return user


def find_user(session: Session, *, ref: str, domain_id: str = "default") -> User:
    """A user by id or else by name in the domain (for the command line)."""
    user = session.get(User, ref) or session.scalar(
        select(User).where(User.domain_id == domain_id, User.name == ref)
    )
    if user is None:
        raise not_found("user", ref)
    return user


def list_users(
    session: Session,
    *,
    name: str | None = None,
    domain_id: str | None = None,
    enabled: bool | None = None,
) -> list[User]:
    query = select(User).order_by(User.name, User.id)
    if name is not None:
        query = query.where(User.name == name)
    if domain_id is not None:
        query = query.where(User.domain_id == domain_id)
    if enabled is not None:
        query = query.where(User.enabled == enabled)
    return list(session.scalars(query))


def update_user(session: Session, *, user_id: str, changes: Mapping[str, Any]) -> User:
    """Apply a PATCH body (name, password, enabled, default_project_id, description, email)."""
    user = get_user(session, user_id=user_id)
    if "domain_id" in changes and changes["domain_id"] != user.domain_id:
        raise bad_request("Cannot change the domain_id of a user.")
    if "name" in changes:
        name = _name(changes["name"], "name", 255)
        _check_user_name_free(session, name, user.domain_id, user.id)
        user.name = name
    if "password" in changes:
        user.password_hash = _password_hash(changes["password"])
    if "enabled" in changes:
        user.enabled = _flag(changes["enabled"], "enabled")
    if "default_project_id" in changes:
        user.default_project_id = _default_project_id(session, changes["default_project_id"])
    if "description" in changes:
        user.description = _text(changes["description"], "description")
    if "email" in changes:
        user.email = _text(changes["email"], "email") or None
    session.flush()
    return user


def change_password(
    session: Session, *, user_id: str, original_password: object, password: object
) -> None:
    """Self-service password change: the old password must be right (401 otherwise)."""
    user = get_user(session, user_id=user_id)
    verify_user_password(user, original_password)
    if password is None:
        raise bad_request("Expecting to find password in user.")
    user.password_hash = _password_hash(password)
    session.flush()


def delete_user(session: Session, *, user_id: str) -> None:
    user = get_user(session, user_id=user_id)
    session.execute(delete(RoleAssignment).where(RoleAssignment.user_id == user.id))
    session.delete(user)
    session.flush()


# --- roles and role assignments ----------------------------------------------------------------


def create_role(session: Session, *, name: str) -> Role:
    name = _name(name, "name", 255)
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
    return _error(
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
