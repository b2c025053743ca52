"""The old way of learning which hosts a change touched, kept as the tests' oracle: project
every agent host before and after, and compare fingerprints (what bus/server.py's notifier did
before targeted notifications)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from neutrino.domain.models import Agent
from neutrino.domain.projection.build import project_host


def fingerprints(sessions: Any) -> dict[str, str]:
    with sessions() as session:
        hosts = sorted(set(session.scalars(select(Agent.host))))
        return {h: project_host(session, h).fingerprint for h in hosts}


def changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {h for h in set(before) | set(after) if before.get(h) != after.get(h)}


ROLE_PARTS = {
    "l2": ("ports", "tunnel_peers", "local_tunnel_ip", "remote_groups", "remote_ports", "trunks"),
    "dhcp": ("dhcp_networks",),
    "l3": ("routers",),
}
"""The parts of a host's desired state each agent role reads (``agent/role_passes.py``)."""


def role_parts(sessions: Any) -> dict[str, dict[str, Any]]:
    """Each agent host's projection, cut into the parts each role reads."""
    with sessions() as session:
        hosts = sorted(set(session.scalars(select(Agent.host))))
        states = {h: project_host(session, h) for h in hosts}
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
