"""What agents ask of the server, as domain operations: each runs in the caller's transaction.

The bus only decodes a call and dispatches it here (``bus/server.py``), or to
``dhcp_ports.ensure_dhcp_port`` for a DHCP agent's port: which ports an L3 agent may bind,
how device reports and floating IP statuses change the database.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.domain.context import Context
from neutrino.domain.ml2.port_ext import binding_of
from neutrino.domain.models import FloatingIP, Port
from neutrino.domain.services import l3_ha, ports, port_status
from neutrino.domain.config import DomainConfig
from neutrino.domain.wiring import Domain

def bind_router_ports(session: Session, cfg: DomainConfig, host: str, port_ids: list[str]) -> list[str]:
    """Bind the router ports of a router scheduled to ``host`` there, as Neutron's L3 RPC does
    when the agent syncs its routers (``_ensure_host_set_on_port``). Only network-owned ports:
    an agent cannot move an instance's port. Returns the ports whose binding changed."""
    bound = []
    bindings = binding_of(session, list(port_ids))
    for port in session.scalars(select(Port).where(Port.id.in_(list(port_ids)))):
        if not port.device_owner.startswith("network:"):
            continue
        binding = bindings.get(port.id)
        if binding is not None and binding.host == host and binding.vif_type not in ("unbound", "binding_failed"):
            continue
        ports.update(session, Context.admin(port.project_id), cfg, port.id, {"binding:host_id": host})
        bound.append(port.id)
    return bound


def update_floatingip_statuses(session: Session, statuses: dict[str, str]) -> list[str]:
    """Record the statuses an L3 agent reports (ACTIVE once its NAT is in place); returns the
    floating IPs whose status changed. Unknown ids are ignored: the IP may just have been deleted."""
    changed = []
    for fip_id, status in statuses.items():
        fip = session.get(FloatingIP, fip_id)
        if fip is not None and fip.status != status:
            fip.status = status
            changed.append(fip_id)
    return changed


def update_ha_states(session: Session, cfg: DomainConfig, host: str, states: dict[str, str]) -> list[str]:
    """An L3 agent's HA routers' states (Neutron's update_ha_routers_states); the active
    side's host gets the router's ports (domain/services/l3_ha.py)."""
    return l3_ha.update_states(session, cast(Domain, cfg), host, states)


def update_device_list(
    session: Session, cfg: DomainConfig, host: str, devices_up: list[str], devices_down: list[str], entity: str
) -> dict[str, Any]:
    """Ports an agent wired (up) or unwired (down) on ``host``; returns the ports whose state
    the report changed, as Neutron's ``update_device_list``."""
    done = port_status.already_up(session, devices_up, host)  # a restarted agent's report: nearly all
    wired = port_status.devices_up(session, cfg, host, [p for p in devices_up if p not in done], entity)
    up = [p for p in devices_up if p in done or p in wired]
    down = [p for p in devices_down if port_status.device_down(session, cfg, port_id=p, host=host)]
    return {"devices_up": up, "devices_down": down}
