"""Deleting an external network deletes its floating IPs that are not associated with a port.

Why: Neutron's L3 plugin does so (``delete_disassociated_floatingips`` on the network's
BEFORE_DELETE), so an admin can remove an external network projects still hold idle floating
IPs on. An associated floating IP still blocks the delete (its port is in use, 409
NetworkInUse), as do router gateways. Unlike Neutron, the deletions happen in the network
delete's own transaction: a refused delete leaves every floating IP in place.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.domain.context import Context
from neutrino.domain.models import FloatingIP
from neutrino.domain.services import common, l3_ports
from neutrino.domain.config import DomainConfig
from neutrino.domain.services.extensions import Extension


class UnassociatedFloatingIPsGo(Extension):
    name = "external-net-floatingips"

    def clear_before_delete(self, session: Session, ctx: Context, cfg: DomainConfig, obj: Any) -> None:
        idle = session.scalars(
            select(FloatingIP).where(FloatingIP.floating_network_id == obj.id, FloatingIP.fixed_port_id.is_(None))
        ).all()
        for fip in idle:
            port_id = fip.floating_port_id
            common.delete_tags(session, fip.id)
            session.delete(fip)
            session.flush()
            l3_ports.delete_port(session, cfg, port_id)
