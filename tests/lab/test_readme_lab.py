"""The README's lab block is run as written (``./dev`` replaced by the venv's neutrino).

It uses the default lab name ``seed``, so it refuses to run when such a lab's namespaces
already exist on the machine (a user's own lab is never touched)."""

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


def lab_block() -> list[list[str]]:
    section = README.read_text().split("## The lab: a cloud on one machine", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, flags=re.S).group(1)  # type: ignore[union-attr]
    out = []
    for line in block.splitlines():
        argv = shlex.split(line, comments=True)
        assert argv[0] == "./dev", line
        argv = ["lab", *argv[2:]] if argv[1] == "lab" else argv[2:]
        out.append([sys.executable, "-m", "neutrino.cli.main", *argv])
    return out


def test_readme_lab_block(lab_root):
    with Netlink() as nl:
        if any(ns.startswith("seed-") for ns in nl.list_netns()):
            pytest.fail("a lab named 'seed' exists on this machine; the README test needs that name")
    commands = lab_block()
    assert len(commands) >= 6
    try:
        for argv in commands:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=dict(os.environ))
            assert done.returncode == 0, f"{' '.join(argv[3:])}\n{done.stdout}\n{done.stderr}"
    finally:
        teardown.down("seed", root=lab_root)
