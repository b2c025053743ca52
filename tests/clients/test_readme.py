"""The README's client examples are run as written against a real server.

Every line of the README that starts with ``OS_CLOUD=neutrino openstack`` is executed in
order (with the test server's clouds.yaml), so the documentation cannot drift from what works.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.clients.conftest import running_server

pytestmark = pytest.mark.clients

README = Path(__file__).resolve().parents[2] / "README.md"
OPENSTACK = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "openstack"


def readme_commands() -> list[list[str]]:
    lines = re.findall(r"^OS_CLOUD=neutrino (openstack .+)$", README.read_text(), flags=re.M)
    return [shlex.split(line.split("#")[0]) for line in lines]


def test_readme_has_examples():
    assert len(readme_commands()) >= 4


def test_readme_examples_run(tmp_path):
    # a server of its own: the README's names (net1, ...) must not meet other tests' objects
    with running_server(tmp_path / "server") as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "NEUTRINO_"))}
        env.update(OS_CLIENT_CONFIG_FILE=str(server.clouds_yaml), OS_CLOUD="neutrino")
        openstack = str(OPENSTACK) if OPENSTACK.exists() else "openstack"
        for argv in readme_commands():
            done = subprocess.run(
                [openstack, *argv[1:]], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
            )
            assert done.returncode == 0, f"{' '.join(argv)}\n{done.stdout}\n{done.stderr}"
