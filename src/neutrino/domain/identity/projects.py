"""Projects: the records tokens are scoped to (the shared shape is in ``records``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from neutrino.domain.identity import records
from neutrino.domain.identity.errors import flag_value, text_value
from neutrino.domain.models.identity import Project, RoleAssignment

PROJECT = records.Kind(
    model=Project,
    label="project",
    name_limit=64,
    assignments=RoleAssignment.project_id,
    attributes={
        "description": ("description", lambda _s, value: text_value(value, "description")),
        "enabled": ("enabled", lambda _s, value: flag_value(value, "enabled")),
    },
    fixed=("domain_id", "id"),
)


def create_project(
    session: Session,
    *,
    name: str,
    domain_id: str = "default",
    description: str | None = "",
    enabled: bool = True,
) -> Project:
    values = {"description": description, "enabled": enabled}
    return records.create(session, PROJECT, name=name, domain_id=domain_id, values=values)  # type: ignore[no-any-return]


def get_project(session: Session, *, project_id: str) -> Project:
    return records.get(session, PROJECT, project_id)  # type: ignore[no-any-return]


def find_project(session: Session, *, ref: str, domain_id: str = "default") -> Project:
    """A project by id or else by name in the domain (for the command line)."""
    return records.find(session, PROJECT, ref, domain_id)  # type: ignore[no-any-return]


def list_projects(
    session: Session,
    *,
    name: str | None = None,
    domain_id: str | None = None,
    enabled: bool | None = None,
) -> list[Project]:
    return records.list_(session, PROJECT, name=name, domain_id=domain_id, enabled=enabled)


def update_project(session: Session, *, project_id: str, changes: Mapping[str, Any]) -> Project:
    """Apply a PATCH body; unknown attributes are ignored, domain and id changes are refused."""
    return records.update(session, PROJECT, project_id, changes)  # type: ignore[no-any-return]


def delete_project(session: Session, *, project_id: str) -> None:
    records.remove(session, PROJECT, project_id)
