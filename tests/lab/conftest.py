"""Labs for tests: unique short names, a private state directory, always taken down."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from neutrino.lab import realize, teardown, topology


@pytest.fixture(scope="session")
def lab_root() -> Iterator[Path]:
    """Short (unix socket paths are limited to 108 bytes) and private to this run."""
    root = Path(tempfile.mkdtemp(prefix="nt-lab-", dir="/tmp"))
    root.chmod(0o755)  # dnsmasq reads its files as nobody
    old = os.environ.get("NEUTRINO_LAB_DIR")
    os.environ["NEUTRINO_LAB_DIR"] = str(root)
    yield root
    if old is None:
        os.environ.pop("NEUTRINO_LAB_DIR", None)
    else:
        os.environ["NEUTRINO_LAB_DIR"] = old
    shutil.rmtree(root, ignore_errors=True)


def unique_name() -> str:
    return "t" + uuid.uuid4().hex[:6]


@contextlib.contextmanager
def running_lab(lab_root: Path, lab_file: topology.LabFile | None = None, name: str | None = None) -> Iterator[Any]:
    """Bring a lab up; take it down whatever happens (also when ``up`` fails half-way)."""
    name = name or unique_name()
    try:
        yield realize.up(lab_file or topology.default_lab(), name=name, root=lab_root).lab
    finally:
        teardown.down(name, root=lab_root)


def small_lab(**hosts: Any) -> topology.LabFile:
    return topology.parse({
        "hosts": hosts or {"compute1": {"roles": ["compute"]}, "compute2": {"roles": ["compute"]}},
        "external_network": None,
    })  # fmt: skip
