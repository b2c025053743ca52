"""The old way of learning which hosts a change touched, kept as the tests' oracle: project
every agent host before and after, and compare fingerprints (what bus/server.py's notifier did
before targeted notifications).

Ports' revision numbers are left out of the comparison: a status change bumps them and, by
design, notifies no agent (``domain/notify/changes.py``; the agents' copies lag until their next
whole fetch). A binding's change, which the DHCP agent must see, changes other fields too."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import select

from neutrino.domain.models import Agent
from neutrino.domain.projection.build import project_host


def fingerprints(sessions: Any, port_revisions: bool = False) -> dict[str, str]:
    """``port_revisions``: compare ports' revision numbers too (a change that is no status change)."""
    with sessions() as session:
        hosts = sorted(set(session.scalars(select(Agent.host))))
        states = {h: project_host(session, h) for h in hosts}
        return {h: (s if port_revisions else _without_port_revisions(s)).fingerprint for h, s in states.items()}


def _without_port_revisions(state: Any) -> Any:
    ports = tuple(dataclasses.replace(p, revision_number=0) for p in state.ports)
    dhcp = tuple(dataclasses.replace(n, ports=tuple(dataclasses.replace(p, revision_number=0) for p in n.ports))
                 for n in state.dhcp_networks)  # fmt: skip
    return dataclasses.replace(state, ports=ports, dhcp_networks=dhcp).with_fingerprint()


def changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {h for h in set(before) | set(after) if before.get(h) != after.get(h)}


ROLE_PARTS = {
    "l2": ("ports", "tunnel_peers", "local_tunnel_ip", "remote_groups", "remote_ports", "trunks"),
    "dhcp": ("dhcp_networks",),
    "l3": ("routers",),
}
"""The parts of a host's desired state each agent role reads (``agent/role_passes.py``)."""


def role_parts(sessions: Any) -> dict[str, dict[str, Any]]:
    """Each agent host's projection, cut into the parts each role reads (ports' revision numbers
    left out, as ``fingerprints`` does: a status change notifies nobody by design)."""
    with sessions() as session:
        hosts = sorted(set(session.scalars(select(Agent.host))))
        states = {h: _without_port_revisions(project_host(session, h)) for h in hosts}
    return {h: {role: [getattr(s, f) for f in fields] for role, fields in ROLE_PARTS.items()} for h, s in states.items()}


def changed_roles(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> dict[str, set[str]]:
    """Host -> the roles whose parts changed (a host that came or went: every role)."""
    out: dict[str, set[str]] = {}
    for h in set(before) | set(after):
        old, new = before.get(h, {}), after.get(h, {})
        roles = {r for r in ROLE_PARTS if old.get(r) != new.get(r)}
        if roles:
            out[h] = roles
    return out
