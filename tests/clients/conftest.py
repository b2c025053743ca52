"""A real ``neutrino server`` subprocess for the clients tier, and helpers to drive it.

The ``server`` fixture (one per test session) starts ``python -m neutrino.cli.main server`` on a
free 127.0.0.1 port with a temporary state directory, Keystone auth and a known admin password,
so that the server bootstraps the admin user and writes ``clouds.yaml`` / ``openrc`` as a user
would see them. Tests then drive it with the unmodified ``openstack`` CLI (``server.osc``) or
openstacksdk. The process is always stopped by its pid (terminate, then kill), never by name.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

pytestmark = pytest.mark.clients

ADMIN_PASSWORD = "clients-admin-pw"
START_TIMEOUT = 30.0
HTTP_TIMEOUT = 60.0  # a request to a real server; httpx's default 5 s is short on a loaded machine
VENV_BIN = Path(sys.executable).parent
OPENSTACK = str(VENV_BIN / "openstack")
# Subcommands that accept no ``-f json`` (they print nothing on success).
_SILENT_VERBS = {"set", "unset", "delete", "add", "remove"}


RUN_CONFIG_KEYS = ("OS_CLIENT_CONFIG_FILE", "OS_CLIENT_SECURE_FILE")
"""The variables tests/conftest.py points at the run's own (empty) cloud files: never removed,
or openstacksdk would fall back to ~/.config/openstack and /etc/openstack."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without OS_* / NEUTRINO_* settings that would leak into a run;
    OS_CLIENT_CONFIG_FILE stays (tests/conftest.py points it at an empty file, so that a client
    never falls back to the user's or the machine's clouds.yaml), and so does OS_CLIENT_SECURE_FILE."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "NEUTRINO_"))}
    for key in RUN_CONFIG_KEYS:
        if key in os.environ:
            env[key] = os.environ[key]
    env.update(extra)
    return env


@dataclass
class Server:
    url: str
    state_dir: Path
    clouds_yaml: Path
    admin_password: str
    auth: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    work_dir: Path
    extra_clouds: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def auth_url(self) -> str:
        return f"{self.url}/identity/v3"

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return "<no server log>"

    # --- identity helpers --------------------------------------------------------------------

    def token(self, username: str = "admin", password: str | None = None, project: str = "admin") -> str:
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {
                            "name": username,
                            "password": password or self.admin_password,
                            "domain": {"name": "Default"},
                        }
                    },
                },
                "scope": {"project": {"name": project, "domain": {"name": "Default"}}},
            }
        }
        r = httpx.post(f"{self.auth_url}/auth/tokens", json=body, timeout=HTTP_TIMEOUT)
        assert r.status_code == 201, r.text
        return r.headers["X-Subject-Token"]

    # --- clouds.yaml -------------------------------------------------------------------------

    def add_cloud(self, name: str, username: str, password: str, project: str) -> Path:
        """Add a password cloud for another user/project to the extended clouds file."""
        base = yaml.safe_load(self.clouds_yaml.read_text())["clouds"]["neutrino"]
        entry = json.loads(json.dumps(base))
        entry["auth"].update(username=username, password=password, project_name=project)
        self.extra_clouds[name] = entry
        return self.clouds_file_for(name)

    @property
    def extended_clouds_yaml(self) -> Path:
        return self.work_dir / "clouds-extended.yaml"

    def clouds_file_for(self, cloud: str) -> Path:
        """The generated clouds.yaml, or a tmp copy extended with the extra clouds."""
        if cloud not in self.extra_clouds:
            return self.clouds_yaml
        data = yaml.safe_load(self.clouds_yaml.read_text())
        data["clouds"].update(self.extra_clouds)
        self.extended_clouds_yaml.write_text(yaml.safe_dump(data))
        self.extended_clouds_yaml.chmod(0o600)
        return self.extended_clouds_yaml

    # --- the openstack CLI -------------------------------------------------------------------

    def _run_osc(
        self,
        args: tuple[str, ...],
        cloud: str | None,
        env: dict[str, str] | None,
        fmt: bool | None,
        cwd: Path | None,
    ) -> tuple[subprocess.CompletedProcess[str], bool]:
        if fmt is None:  # the command words are the arguments before the first option
            words = []
            for arg in args:
                if arg.startswith("-"):
                    break
                words.append(arg)
            fmt = not _SILENT_VERBS & set(words[:4])
        cmd = [OPENSTACK]
        run_env = clean_env()
        if cloud is not None:
            cmd += ["--os-cloud", cloud]
            run_env["OS_CLIENT_CONFIG_FILE"] = str(self.clouds_file_for(cloud))
        else:  # the client's own search: ./clouds.yaml first (the run's HOME has none)
            run_env.pop("OS_CLIENT_CONFIG_FILE", None)
        cmd += list(args)
        if fmt:
            cmd += ["-f", "json"]
        run_env.update(env or {})
        proc = subprocess.run(
            cmd,
            cwd=cwd or self.work_dir,
            env=run_env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return proc, fmt

    def osc(
        self,
        *args: str,
        cloud: str | None = "neutrino",
        env: dict[str, str] | None = None,
        fmt: bool | None = None,
        cwd: Path | None = None,
    ) -> Any:
        """Run ``openstack --os-cloud CLOUD ARGS [-f json]``; return parsed JSON or the text.

        ``-f json`` is added unless the command is a set/unset/delete/add/remove (or fmt=False).
        Fails the test, showing stdout and stderr, when the exit code is not 0.
        """
        proc, fmt = self._run_osc(args, cloud, env, fmt, cwd)
        if proc.returncode != 0:
            pytest.fail(
                f"openstack {' '.join(args)} exited {proc.returncode}\n"
                f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}",
                pytrace=False,
            )
        if fmt and proc.stdout.strip():
            return json.loads(proc.stdout)
        return proc.stdout

    def osc_fail(
        self,
        *args: str,
        cloud: str | None = "neutrino",
        env: dict[str, str] | None = None,
        fmt: bool | None = False,
        cwd: Path | None = None,
    ) -> str:
        """Run an openstack command that must fail (exit code 1); return its stderr."""
        proc, _ = self._run_osc(args, cloud, env, fmt, cwd)
        if proc.returncode == 0:
            pytest.fail(
                f"openstack {' '.join(args)} unexpectedly succeeded\n--- stdout\n{proc.stdout}",
                pytrace=False,
            )
        assert proc.returncode == 1, f"exit code {proc.returncode}\n{proc.stderr}"
        return proc.stderr

    # --- lifecycle ---------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the server by its pid: SIGTERM, wait, then SIGKILL."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


@contextlib.contextmanager
def running_server(base_dir: Path, auth: str = "keystone", env: dict[str, str] | None = None) -> Iterator[Server]:
    """Start ``neutrino server`` in ``base_dir``; wait for ``GET /``; always stop it by pid.

    ``env``: extra settings as NEUTRINO_* variables (e.g. ML2 ranges, JSON lists)."""
    base_dir.mkdir(parents=True, exist_ok=True)
    state_dir = base_dir / "state"
    work_dir = base_dir / "work"
    work_dir.mkdir(exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = base_dir / "server.log"
    cmd = [
        sys.executable, "-m", "neutrino.cli.main", "server",
        "--state-dir", str(state_dir), "--port", str(port), "--host", "127.0.0.1", "--auth", auth,
    ]  # fmt: skip
    run_env = clean_env(NEUTRINO_ADMIN_PASSWORD=ADMIN_PASSWORD, **(env or {}))
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=run_env, cwd=base_dir)
    server = Server(
        url=url,
        state_dir=state_dir,
        clouds_yaml=state_dir / "clouds.yaml",
        admin_password=ADMIN_PASSWORD,
        auth=auth,
        proc=proc,
        log_path=log_path,
        work_dir=work_dir,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited with {proc.returncode} at start\n{server.log()}", pytrace=False)
            try:
                if httpx.get(url + "/", timeout=2).status_code < 500:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"server did not answer GET / within {START_TIMEOUT:.0f}s\n{server.log()}", pytrace=False)
            time.sleep(0.1)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The real server (keystone auth, admin password set), shared by the whole session."""
    base = tmp_path_factory.mktemp("neutrino-server")
    with running_server(base, auth="keystone") as srv:
        assert srv.clouds_yaml.is_file(), srv.log()
        yield srv


@pytest.fixture
def no_os_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No OS_* variable of the developer's shell may leak into a client under test (the run's
    own empty clouds.yaml and secure.yaml stay named: see tests/conftest.py)."""
    for key in list(os.environ):
        if key.startswith("OS_") and key not in RUN_CONFIG_KEYS:
            monkeypatch.delenv(key)
    return monkeypatch


@pytest.fixture
def conn(server: Server, no_os_env: pytest.MonkeyPatch) -> Iterator[Any]:
    """An openstacksdk connection as the admin, with explicit password arguments."""
    import openstack

    c = openstack.connect(
        auth_url=server.auth_url,
        username="admin",
        password=server.admin_password,
        project_name="admin",
        user_domain_name="Default",
        project_domain_name="Default",
        region_name="RegionOne",
    )
    yield c
    c.close()
