"""A private Open vSwitch in a throwaway namespace, for tests that need the real thing (root).

Everything is named ``nt-ovs-<random>`` (namespace and /tmp directory, short enough for unix
socket paths) and removed in ``finally`` even when the test fails: the daemons by pidfile first,
because a process still running in a deleted namespace keeps it alive (docs/dataplane.md).
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from neutrino.dataplane import exec as programs
from neutrino.dataplane.host import HostContext
from neutrino.dataplane.ovs import OvsInstance

PROGRAMS = ("ip", "ovsdb-tool", "ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovs-ofctl")


def require_root_ovs() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root")
    missing = [p for p in PROGRAMS if shutil.which(p) is None]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)}")


START_TIMEOUT = 30.0  # for OvsInstance.start (default 10 s): daemons start slowly on a loaded machine


@pytest.fixture
def ovs_host() -> Iterator[HostContext]:
    """A HostContext whose OVS runs in its own namespace; torn down after the test."""
    require_root_ovs()
    name = f"nt-ovs-{secrets.token_hex(4)}"
    directory = Path(tempfile.mkdtemp(prefix="nt-ovs-", dir="/tmp"))
    host = HostContext(name=name, netns=name, ovs_dir=directory)
    instance = OvsInstance(host)
    created = False
    try:
        programs.run(["ip", "netns", "add", name])
        created = True
        instance.start(timeout=START_TIMEOUT)
        yield host
    finally:
        try:
            instance.stop()
        finally:
            if created:
                programs.run(["ip", "netns", "del", name], check=False)
            shutil.rmtree(directory, ignore_errors=True)
