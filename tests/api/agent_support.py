"""Helpers for agent tests: reach the in-process server's database, report as an agent would
(with an injected time), and give a port a binding row without going through port binding."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from neutrino.agent.kinds import AGENT_KINDS, configurations_for
from neutrino.db.engine import run_in_transaction
from neutrino.domain.models import PortBinding
from neutrino.domain.models.base import utcnow
from neutrino.domain.services import agents
from neutrino.domain.config import DomainConfig

T = TypeVar("T")


def state_of(api: Any) -> Any:
    return api.client.app.app.state.neutrino


def cfg_of(api: Any, **changes: Any) -> DomainConfig:
    return state_of(api).domain.model_copy(update=changes)


def run(api: Any, work: Callable[[Any], T]) -> T:
    return run_in_transaction(state_of(api).sessions, work)


def ago(seconds: int) -> datetime:
    return utcnow() - timedelta(seconds=seconds)


def report(
    api: Any,
    host: str,
    kind: str = "ovs",
    *,
    now: datetime | None = None,
    cfg: DomainConfig | None = None,
    start: bool = False,
    **conf: Any,
) -> str:
    """One heartbeat of a ``kind`` agent (ovs, linuxbridge, dhcp, l3) on ``host``; returns
    new/alive/revived. ``conf`` goes into the reported configurations."""
    agent_type, binary, topic, zone = AGENT_KINDS[kind]
    configurations = configurations_for(
        kind,
        bridge_mappings=conf.pop("bridge_mappings", {}),
        tunnel_types=conf.pop("tunnel_types", []),
        tunneling_ip=conf.pop("tunneling_ip", None),
        extra=conf,
    )
    return run(
        api,
        lambda s: agents.report_state(
            s, cfg or state_of(api).domain, agent_type=agent_type, binary=binary, topic=topic, host=host,
            configurations=configurations, start_flag=start, availability_zone=zone, now=now,
        ),
    )  # fmt: skip


def agent_id(api: Any, host: str, kind: str = "ovs") -> str:
    agent_type = AGENT_KINDS[kind][0]
    return run(api, lambda s: agents.find_by_host(s, agent_type=agent_type, host=host).id)


def bind(api: Any, port_id: str, host: str, vif_type: str = "ovs") -> None:
    """Set the port's binding row (port binding proper is tested elsewhere)."""

    def work(session: Any) -> None:
        row = session.get(PortBinding, port_id)
        if row is None:
            row = PortBinding(port_id=port_id, profile={}, vif_details={})
            session.add(row)
        row.host, row.vif_type = host, vif_type
        session.flush()

    run(api, work)
