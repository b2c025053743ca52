"""A third-party package adds a service plugin to a real server; the unmodified openstack CLI
sees its extension. The package is installed as pip leaves a wheel (module plus ``.dist-info``)
in a directory on the server's PYTHONPATH; nothing in neutrino names it."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points

import httpx
import pytest

from tests.clients.conftest import HTTP_TIMEOUT, clean_env, running_server
from tests.fixtures import third_party

pytestmark = pytest.mark.clients


def test_installed_service_plugin_is_served(tmp_path):
    site = third_party.install(tmp_path / "site")
    env = {
        "PYTHONPATH": str(site),
        "NEUTRINO_SERVICE_PLUGINS": json.dumps(["router", "hello"]),
        "NEUTRINO_MECHANISM_DRIVERS": json.dumps(["openvswitch", "hello_mech"]),
    }
    with running_server(tmp_path / "srv", env=env) as server:
        aliases = {e["Alias"] for e in server.osc("extension", "list", "--network")}
        assert {"hello", "router", "binding"} <= aliases
        server.osc("router", "create", "r1")
        token = server.osc("token", "issue")["id"]
        hellos = httpx.get(f"{server.url}/v2.0/hellos", headers={"X-Auth-Token": token}, timeout=HTTP_TIMEOUT).json()
        assert hellos["hellos"][0]["greeting"] == "hello from a plugin"


def test_unknown_service_plugin_is_a_clean_start_error(tmp_path):
    cmd = [sys.executable, "-m", "neutrino.cli.main", "server", "--state-dir", str(tmp_path / "s"), "--port", "1"]
    env = clean_env(NEUTRINO_SERVICE_PLUGINS='["router", "nope"]')
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    installed = ", ".join(sorted(ep.name for ep in entry_points(group="neutrino.service_plugins")))
    assert f"Error: unknown service plugin 'nope' (installed: {installed};" in done.stderr
    assert "router" in installed
    assert "Traceback" not in done.stderr
