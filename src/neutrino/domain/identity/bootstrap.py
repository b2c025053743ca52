"""First start of the identity store, and the client files that make `openstack` work at once.

``bootstrap`` seeds an empty store the way ``keystone-manage bootstrap`` does: the roles admin,
member and reader, a project ``admin`` and a user ``admin`` holding all three roles on it. It
runs on every server start and does nothing once a user exists, so it is safe to repeat and safe
when several server processes start together (the unique constraints make one of them win and
the others see a populated store on retry).

``write_client_files`` writes ``clouds.yaml`` (cloud ``neutrino``) and ``openrc`` into the state
directory, and optionally merges the cloud into ``/etc/openstack/clouds.yaml``, one of the places
the openstack CLI reads without being told, so ``OS_CLOUD=neutrino openstack network list``
needs no setup. The files hold the admin password, so they are written 0600. An existing file is
never clobbered with a password we are not sure of: it is only refreshed when the password was
just set, and otherwise only its auth URL is corrected (the port may differ between runs).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shlex
import tempfile
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from neutrino.config import ServerSettings
from neutrino.db.engine import run_in_transaction
from neutrino.domain.identity import service
from neutrino.domain.models.identity import Project, User

LOG = logging.getLogger(__name__)

CLOUD_NAME = "neutrino"
ADMIN_USER = "admin"
ADMIN_ROLES = ("admin", "member", "reader")
SYSTEM_CLOUDS_FILE = Path("/etc/openstack/clouds.yaml")
PRIVATE = 0o600


def bootstrap(sessions: sessionmaker[Session], settings: ServerSettings) -> str | None:
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


def auth_url(settings: ServerSettings) -> str:
    return f"{settings.url}/identity/v3"


def cloud_entry(settings: ServerSettings, password: str, project_name: str = "admin") -> dict[str, Any]:
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


def render_openrc(settings: ServerSettings, password: str, project_name: str = "admin") -> str:
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


def write_client_files(
    settings: ServerSettings,
    password: str | None,
    admin_project_name: str = "admin",
    *,
    install_system_wide: bool = False,
    system_clouds_file: Path = SYSTEM_CLOUDS_FILE,
) -> list[Path]:
    """Write or refresh clouds.yaml and openrc; return the files that were changed.

    ``password`` is the one ``bootstrap`` just set (None when the store already existed). With
    no new password, a missing file is written only if the password is otherwise known (the
    settings, or our own clouds.yaml); an existing file only gets its auth URL corrected.
    """
    state_dir = Path(settings.state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    clouds_file, openrc_file = state_dir / "clouds.yaml", state_dir / "openrc"
    known = password or settings.admin_password or _password_in(clouds_file)
    entry = cloud_entry(settings, known, admin_project_name) if known else None
    openrc = render_openrc(settings, known, admin_project_name) if known else None
    fresh = password is not None

    changed: list[Path] = []
    if _sync_clouds(clouds_file, entry, auth_url(settings), fresh=fresh, private=True):
        changed.append(clouds_file)
    if _sync_openrc(openrc_file, openrc, auth_url(settings), fresh=fresh):
        changed.append(openrc_file)
    if install_system_wide:
        try:
            if _sync_clouds(system_clouds_file, entry, auth_url(settings), fresh=fresh, private=False):
                changed.append(system_clouds_file)
        except OSError as exc:
            LOG.warning("cannot update %s: %s", system_clouds_file, exc)
    return changed


# --- file helpers ------------------------------------------------------------------------------


def _password_in(clouds_file: Path) -> str | None:
    try:
        data = yaml.safe_load(clouds_file.read_text())
        password = data["clouds"][CLOUD_NAME]["auth"]["password"]
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return None
    return password if isinstance(password, str) and password else None


def _sync_clouds(
    path: Path, entry: dict[str, Any] | None, url: str, *, fresh: bool, private: bool
) -> bool:
    """Merge our cloud into ``path``, leaving every other cloud in the file as it was."""
    data: dict[str, Any] = {}
    if path.exists():
        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            LOG.warning("not touching %s, it is not valid YAML: %s", path, exc)
            return False
        if not isinstance(loaded, dict) or not isinstance(loaded.get("clouds", {}), dict):
            LOG.warning("not touching %s, it has no clouds mapping", path)
            return False
        data = loaded
    clouds = data.setdefault("clouds", {})
    current = clouds.get(CLOUD_NAME)
    if fresh or not isinstance(current, dict):
        if entry is None:
            if current is None:
                LOG.warning("admin password unknown; not writing cloud %s to %s", CLOUD_NAME, path)
            return False
        if current == entry:
            return False
        clouds[CLOUD_NAME] = entry
    else:
        auth = current.setdefault("auth", {})
        if not isinstance(auth, dict) or auth.get("auth_url") == url:
            return False
        auth["auth_url"] = url
    text = yaml.safe_dump(data, default_flow_style=False, sort_keys=False)
    mode = PRIVATE if private or not path.exists() else path.stat().st_mode & 0o777
    _write_atomically(path, text, mode)
    return True


_AUTH_URL_LINE = re.compile(r"^export OS_AUTH_URL=.*$", re.MULTILINE)


def _sync_openrc(path: Path, content: str | None, url: str, *, fresh: bool) -> bool:
    if fresh or not path.exists():
        if content is None:
            LOG.warning("admin password unknown; not writing %s", path)
            return False
        _write_atomically(path, content, PRIVATE)
        return True
    old = path.read_text()
    new = _AUTH_URL_LINE.sub(lambda _m: f"export OS_AUTH_URL={shlex.quote(url)}", old)
    if new == old:
        return False
    _write_atomically(path, new, PRIVATE)
    return True


def _write_atomically(path: Path, text: str, mode: int) -> None:
    """Replace ``path`` in one rename; the temporary file is private from its creation on."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
