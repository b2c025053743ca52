"""First start of the identity store, and what the client files for the admin user say.

``bootstrap`` seeds an empty store the way ``keystone-manage bootstrap`` does: the roles admin,
member and reader, a project ``admin`` and a user ``admin`` holding all three roles on it. It
runs on every server start and does nothing once a user exists, so it is safe to repeat and safe
when several server processes start together (the unique constraints make one of them win and
the others see a populated store on retry).

``cloud_entry`` and ``render_openrc`` are the contents of ``clouds.yaml`` and ``openrc`` for the
admin user, as data; writing them is the composition root's job (``neutrino.client_files``).
"""

from __future__ import annotations

import logging
import secrets
import shlex
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from neutrino.db.engine import run_in_transaction
from neutrino.domain.identity import service
from neutrino.domain.models.identity import Project, User

LOG = logging.getLogger(__name__)

CLOUD_NAME = "neutrino"
ADMIN_USER = "admin"
ADMIN_ROLES = ("admin", "member", "reader")


class ServerIdentity(Protocol):
    """What bootstrap and the client files read of the server's settings (``ServerIdentity``)."""

    @property
    def admin_password(self) -> str | None: ...

    @property
    def region(self) -> str: ...

    @property
    def url(self) -> str: ...


def bootstrap(sessions: sessionmaker[Session], settings: ServerIdentity) -> str | None:
    """Seed an empty store; return the admin password it set, or None if users already exist."""
    password = settings.admin_password or secrets.token_urlsafe(18)

    def work(session: Session) -> str | None:
        if session.scalar(select(User.id).limit(1)) is not None:
            return None
        roles = {role.name: role for role in service.list_roles(session)}
        for name in ADMIN_ROLES:
            if name not in roles:
                roles[name] = service.create_role(session, name=name)
        project = session.scalar(
            select(Project).where(Project.domain_id == "default", Project.name == "admin")
        ) or service.create_project(session, name="admin", description="Bootstrap project")
        user = service.create_user(
            session, name=ADMIN_USER, password=password, default_project_id=project.id
        )
        for name in ADMIN_ROLES:
            service.assign_role(
                session, user_id=user.id, project_id=project.id, role_id=roles[name].id
            )
        return password

    created = run_in_transaction(sessions, work)
    if created is not None:
        LOG.info("identity store bootstrapped: user %s on project admin", ADMIN_USER)
    return created


def auth_url(settings: ServerIdentity) -> str:
    return f"{settings.url}/identity/v3"


def cloud_entry(settings: ServerIdentity, password: str, project_name: str = "admin") -> dict[str, Any]:
    """The clouds.yaml entry for the admin user."""
    return {
        "auth_type": "password",
        "auth": {
            "auth_url": auth_url(settings),
            "username": ADMIN_USER,
            "password": password,
            "project_name": project_name,
            "user_domain_name": "Default",
            "project_domain_name": "Default",
        },
        "region_name": settings.region,
        "identity_api_version": 3,
        "interface": "public",
    }


def render_openrc(settings: ServerIdentity, password: str, project_name: str = "admin") -> str:
    values = {
        "OS_AUTH_URL": auth_url(settings),
        "OS_USERNAME": ADMIN_USER,
        "OS_PASSWORD": password,
        "OS_PROJECT_NAME": project_name,
        "OS_USER_DOMAIN_NAME": "Default",
        "OS_PROJECT_DOMAIN_NAME": "Default",
        "OS_REGION_NAME": settings.region,
        "OS_INTERFACE": "public",
        "OS_IDENTITY_API_VERSION": "3",
    }
    lines = [
        "# neutrino admin credentials for the openstack CLI; use: source openrc",
        "# (OS_CLOUD is unset so that these variables, not a clouds.yaml entry, are used)",
        "unset OS_CLOUD",
    ]
    lines += [f"export {key}={shlex.quote(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"
