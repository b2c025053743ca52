"""Users: who logs in, with a salted password hash (``passwords``) (the shared shape is in ``records``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from neutrino.domain.identity import records
from neutrino.domain.identity.authn import verify_user_password
from neutrino.domain.identity.errors import bad_request, flag_value, text_value
from neutrino.domain.identity.passwords import hash_password
from neutrino.domain.models.identity import Project, RoleAssignment, User


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


USER = records.Kind(
    model=User,
    label="user",
    name_limit=255,
    assignments=RoleAssignment.user_id,
    attributes={
        "password": ("password_hash", lambda _s, value: _password_hash(value)),
        "enabled": ("enabled", lambda _s, value: flag_value(value, "enabled")),
        "default_project_id": ("default_project_id", _default_project_id),
        "description": ("description", lambda _s, value: text_value(value, "description")),
        "email": ("email", lambda _s, value: text_value(value, "email") or None),
    },
)


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
    """Create a user; the password is stored only as a salted hash (None: cannot log in)."""
    values = {
        "password": password,
        "enabled": enabled,
        "default_project_id": default_project_id,
        "description": description,
        "email": email,
    }
    return records.create(session, USER, name=name, domain_id=domain_id, values=values)  # type: ignore[no-any-return]


def get_user(session: Session, *, user_id: str) -> User:
    return records.get(session, USER, user_id)  # type: ignore[no-any-return]


def find_user(session: Session, *, ref: str, domain_id: str = "default") -> User:
    """A user by id or else by name in the domain (for the command line)."""
    return records.find(session, USER, ref, domain_id)  # type: ignore[no-any-return]


def list_users(
    session: Session,
    *,
    name: str | None = None,
    domain_id: str | None = None,
    enabled: bool | None = None,
) -> list[User]:
    return records.list_(session, USER, name=name, domain_id=domain_id, enabled=enabled)


def update_user(session: Session, *, user_id: str, changes: Mapping[str, Any]) -> User:
    """Apply a PATCH body (name, password, enabled, default_project_id, description, email)."""
    return records.update(session, USER, user_id, changes)  # type: ignore[no-any-return]


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
    records.remove(session, USER, user_id)
