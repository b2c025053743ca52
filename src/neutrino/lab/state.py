"""What a lab leaves on disk so that later commands (status, exec, vm, down) find it.

``<state dir>/lab.json`` records the lab file as resolved input (its content, the name and the
datapath detected at ``up``); resolving it again gives every name. It is written before
anything is built, so that ``down`` can remove a lab whose ``up`` failed half-way.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from neutrino.lab import resolve
from neutrino.lab import topology

MANIFEST = "lab.json"


def write_manifest(lab: resolve.ResolvedLab, detected_datapath: str, source_file: str | None) -> None:
    # readable by others: dnsmasq reads its files as nobody (the server's own dir stays 0700)
    lab.state_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
    lab.state_dir.chmod(0o755)
    doc = {
        "name": lab.name,
        "lab_file": lab.source,
        "source_file": source_file,
        "detected_datapath": detected_datapath,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    tmp = lab.state_dir / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2))
    os.replace(tmp, lab.state_dir / MANIFEST)


def read_manifest(name: str, root: Path = resolve.STATE_ROOT) -> dict[str, Any] | None:
    try:
        return json.loads((resolve.state_dir(name, root) / MANIFEST).read_text())  # type: ignore[no-any-return]
    except (OSError, ValueError):
        return None


def load(name: str, root: Path = resolve.STATE_ROOT) -> resolve.ResolvedLab:
    """The resolved lab ``name`` as it was brought up; LookupError if there is none."""
    doc = read_manifest(name, root)
    if doc is None:
        raise LookupError(f"no lab named {name!r} is up (see `./dev neutrino lab status`)")
    lab_file = topology.parse(doc["lab_file"], f"lab {name} record")
    return resolve.resolve(lab_file, name=name, detected_datapath=doc["detected_datapath"], root=root)


def labs(root: Path = resolve.STATE_ROOT) -> list[str]:
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / MANIFEST).exists())


def pick(name: str | None, root: Path = resolve.STATE_ROOT) -> str:
    """The lab a command means: the one named, or the only one that is up."""
    if name:
        return topology.check_lab_name(name)
    found = labs(root)
    if len(found) == 1:
        return found[0]
    if not found:
        raise LookupError("no lab is up; start one with `./dev neutrino lab up`")
    raise LookupError(f"several labs are up ({', '.join(found)}): say which with --lab/--name")
