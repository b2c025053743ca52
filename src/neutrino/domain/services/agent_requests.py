"""What agents ask of the server, as domain operations: each runs in the caller's transaction.

The bus only decodes a call and dispatches it here (``bus/server.py``); the rules live with the
other services: which port is a network's DHCP port on a host, which ports an L3 agent may
bind, how device reports and floating IP statuses change the database.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.context import Context
from neutrino.domain.ml2.port_ext import binding_of
from neutrino.domain.models import FloatingIP, Network, Port, Subnet
from neutrino.domain.services import ports, port_status
from neutrino.domain.config import DomainConfig

DHCP_OWNER = "network:dhcp"


def dhcp_device_id(host: str, network_id: str) -> str:
    """Neutron's DHCP agents name their port's device ``dhcp<uuid5 of the host>-<network>``."""
    return f"dhcp{uuid.uuid5(uuid.NAMESPACE_DNS, host)}-{network_id}"


def ensure_dhcp_port(session: Session, cfg: DomainConfig, host: str, network_id: str) -> str:
    """The DHCP port of ``network_id`` on ``host``: found, or created as Neutron's DHCP agent
    asks for it (owner network:dhcp, an address on each DHCP-enabled subnet, the lowest free
    one, bound to the host)."""
    device_id = dhcp_device_id(host, network_id)
    existing = session.scalar(
        select(Port.id).where(Port.network_id == network_id, Port.device_id == device_id, Port.device_owner == DHCP_OWNER)
    )
    if existing:
        return str(existing)
    network = session.get(Network, network_id)
    if network is None:
        raise errors.NetworkNotFound(net_id=network_id)
    subnet_ids = session.scalars(select(Subnet.id).where(Subnet.network_id == network_id, Subnet.enable_dhcp.is_(True)))
    data = {
        "project_id": network.project_id, "network_id": network_id, "name": "", "device_owner": DHCP_OWNER,
        "device_id": device_id, "fixed_ips": [{"subnet_id": sid} for sid in subnet_ids], "binding:host_id": host,
    }  # fmt: skip
    return ports.create(session, Context.admin(network.project_id), cfg, data).id


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


def update_device_list(
    session: Session, cfg: DomainConfig, host: str, devices_up: list[str], devices_down: list[str], entity: str
) -> dict[str, Any]:
    """Ports an agent wired (up) or unwired (down) on ``host``; returns the ports whose state
    the report changed, as Neutron's ``update_device_list``."""
    up = [p for p in devices_up if port_status.device_up(session, cfg, port_id=p, host=host, entity=entity) is not None]
    down = [p for p in devices_down if port_status.device_down(session, cfg, port_id=p, host=host)]
    return {"devices_up": up, "devices_down": down}
