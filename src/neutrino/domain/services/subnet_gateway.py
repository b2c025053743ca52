"""A subnet's gateway address while a router interface holds it (split from ``subnets``).

A router interface on a subnet takes the subnet's gateway address; while it does, the gateway
cannot change or go away: ``GatewayIpInUse`` (409), as in Neutron's ``_validate_subnet``.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.models import IPAllocation, Port, Subnet

# The owners whose address on a subnet may be its gateway (Neutron's ROUTER_INTERFACE_OWNERS).
INTERFACE_OWNERS = frozenset(
    {
        "network:router_interface",
        "network:router_interface_distributed",
        "network:ha_router_replicated_interface",
    }
)


def ensure_gateway_free(session: Session, sub: Subnet) -> None:
    """A router interface holding the current gateway address pins it: changing or removing
    the gateway is ``GatewayIpInUse`` (409), as in Neutron."""
    if not sub.gateway_ip:
        return
    holder = session.scalar(
        select(IPAllocation.port_id)
        .join(Port, Port.id == IPAllocation.port_id)
        .where(
            IPAllocation.subnet_id == sub.id,
            IPAllocation.ip_address == sub.gateway_ip,
            Port.device_owner.in_(INTERFACE_OWNERS),
        )
        .limit(1)
    )
    if holder is not None:
        raise errors.GatewayIpInUse(ip_address=sub.gateway_ip, port_id=holder)
