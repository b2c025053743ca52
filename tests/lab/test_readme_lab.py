"""The README's lab block is run as written (``./dev`` replaced by the venv's neutrino,
``openstack`` by the venv's, ``export`` applied to the environment of the next lines).

It uses the default lab name ``seed``, so it refuses to run when such a lab's namespaces
already exist on the machine (a user's own lab is never touched). The lab's state directory
is the test's private one, so the clouds.yaml path of the ``export`` line is rewritten to it."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from neutrino.dataplane.netlink import Netlink
from neutrino.lab import teardown

pytestmark = pytest.mark.root
README = Path(__file__).resolve().parents[2] / "README.md"
BIN = Path(sys.executable).parent


def lab_block() -> list[str]:
    section = README.read_text().split("## The lab: a cloud on one machine", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, flags=re.S).group(1)  # type: ignore[union-attr]
    return [line for line in block.splitlines() if line.strip()]


def test_readme_lab_block(lab_root):
    with Netlink() as netlink:
        if any(ns.startswith("seed-") for ns in netlink.list_netns()):
            pytest.fail("a lab named 'seed' exists on this machine; the README test needs that name")
    lines = lab_block()
    assert len(lines) >= 8
    env = dict(os.environ)
    try:
        for line in lines:
            argv = shlex.split(line, comments=True)
            if argv[0] == "export":
                for assignment in argv[1:]:
                    key, _, value = assignment.partition("=")
                    env[key] = value.replace("/run/neutrino/lab", str(lab_root))
                continue
            if argv[0] == "./dev":
                argv = [sys.executable, "-m", "neutrino.cli.main", *(["lab"] if argv[1] == "lab" else []), *argv[2:]]
            elif argv[0] == "openstack":
                argv = [str(BIN / "openstack"), *argv[1:]]
            done = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)
            assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
    finally:
        teardown.down("seed", root=lab_root)
