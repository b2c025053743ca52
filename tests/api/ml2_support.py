"""Helpers for the ML2 API tests: a server with ML2 ranges configured, and fake agents.

Agents are rows written directly (what a heartbeat would leave behind), so that binding is
tested on its own: a fresh ``heartbeat_timestamp`` is a live agent, an old one a dead agent.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from neutrino.db.engine import run_in_transaction
from neutrino.domain.models import Agent
from neutrino.domain.models.base import utcnow
from tests.conftest import Api, make_settings

OVS_AGENT = "Open vSwitch agent"
LB_AGENT = "Linux bridge agent"

ML2_SETTINGS: dict[str, Any] = {
    "network_vlan_ranges": ["physnet1:100:199", "physnet2:10:11", "physnet3"],
    "vni_ranges": ["1:1000"],
    "geneve_vni_ranges": ["1:100"],
    "tenant_network_types": ["vxlan", "vlan"],
    "flat_networks": ["physnet1", "physnet2", "physnet3", "extnet"],
    "physical_network_mtus": {"physnet3": 1400},
}


@contextlib.contextmanager
def ml2_server(tmp_path: Path, database_url: str | None, **overrides: Any) -> Iterator[tuple[Api, Any]]:
    """(admin Api for project 'p-admin', AppState) of an in-process server."""
    from neutrino.server import build

    values = {**ML2_SETTINGS, **overrides}
    built = build(make_settings(tmp_path, database_url=database_url, **values), write_files=False)
    with TestClient(built.app, raise_server_exceptions=False) as client:
        yield Api(client, "p-admin"), built.state
    built.state.close()


def add_agent(
    state: Any,
    host: str,
    *,
    agent_type: str = OVS_AGENT,
    bridge_mappings: dict[str, str] | None = None,
    tunnel_types: list[str] | None = None,
    dead: bool = False,
    **configurations: Any,
) -> str:
    """An agent row as its heartbeats would have left it; ``dead``: silent for 10 minutes."""
    conf = {"bridge_mappings": bridge_mappings or {}, "tunnel_types": tunnel_types or [], **configurations}
    beat = utcnow() - timedelta(minutes=10) if dead else utcnow()

    def work(session):  # type: ignore[no-untyped-def]
        agent = Agent(
            agent_type=agent_type, binary="neutrino-agent", topic="N/A", host=host,
            configurations=conf, heartbeat_timestamp=beat, started_at=beat, created_at=beat,
        )  # fmt: skip
        session.add(agent)
        session.flush()
        return agent.id

    return run_in_transaction(state.sessions, work)


def error_type(response: Any) -> str:
    return str(response.json()["NeutronError"]["type"])
