"""Where a lab's logs are: the control plane's in the lab's state directory, each host's
(its OVS daemons, its agents' dnsmasq) under ``<state dir>/<host>/``.

Found by looking at the disk rather than from a list of names, so a log a new component writes
under its host's directory is shown without changing this module.
"""

from __future__ import annotations

from pathlib import Path

from neutrino.lab import resolve

SERVER = "server"


def paths(lab: resolve.ResolvedLab) -> dict[str, list[str]]:
    """{"server": [...], host: [...]} of the log files that exist now, sorted."""
    found = {SERVER: sorted(str(p) for p in lab.state_dir.glob("*.log"))}
    found[SERVER] += sorted(str(p) for p in (lab.state_dir / SERVER).glob("*.log"))
    for host in lab.hosts:
        found[host.name] = sorted(str(p) for p in (lab.state_dir / host.name).rglob("*.log"))
    return found


def select(lab: resolve.ResolvedLab, which: str | None) -> list[str]:
    """The files of ``which`` (a host's name or ``server``; None: all); LookupError if unknown."""
    found = paths(lab)
    if which is None:
        return [path for files in found.values() for path in files]
    if which not in found:
        raise LookupError(f"lab {lab.name} has no host {which!r}; logs exist for: {', '.join(found)}")
    return found[which]
