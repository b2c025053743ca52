"""The client files that make `openstack` work at once: clouds.yaml and openrc on disk.

``write_client_files`` writes ``clouds.yaml`` (cloud ``neutrino``) and ``openrc`` into the state
directory, and optionally merges the cloud into ``/etc/openstack/clouds.yaml``, one of the places
the openstack CLI reads without being told, so ``OS_CLOUD=neutrino openstack network list``
needs no setup. The files hold the admin password, so they are written 0600. An existing file is
never clobbered with a password we are not sure of: it is only refreshed when the password was
just set, and otherwise only its auth URL is corrected (the port may differ between runs).

The composition roots (``neutrino.server``, the CLI) call it; the domain only renders the
contents (``domain/identity/bootstrap.py``).
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import tempfile
from pathlib import Path
from typing import Any

import yaml

from neutrino.config import ServerSettings
from neutrino.domain.identity.bootstrap import CLOUD_NAME, auth_url, cloud_entry, render_openrc

LOG = logging.getLogger(__name__)

SYSTEM_CLOUDS_FILE = Path("/etc/openstack/clouds.yaml")
PRIVATE = 0o600


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
