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
