"""The ``port_forwarding`` service plugin: floating IP port forwarding (Neutron's
``port_forwarding`` service plugin, which needs the router plugin).

It serves ``/v2.0/floatingips/{id}/port_forwardings`` and keeps forwardings in step with their
internal ports: a port's deletion, or an update that drops the forwarded address, removes them.
The DNAT itself is done by the L3 agent in the router's namespace (agent/l3/nat.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, exists
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from neutrino.domain.context import Context
from neutrino.domain.services.extensions import Extension
from neutrino.plugins.api import ApiExtension, ServicePlugin


class PortForwardingsFollowPorts(Extension):
    name = "port-forwarding-ports"

    def before_update(self, session: Session, ctx: Context, cfg: Any, obj: Any, data: dict[str, Any]) -> bool:
        requested = data.get("fixed_ips")
        if requested is None or not all(isinstance(f, dict) and f.get("ip_address") for f in requested):
            return False  # addresses kept or chosen by IPAM: nothing forwarded is dropped for sure
        from neutrino.domain.services import port_forwardings

        port_forwardings.remove_for_port(session, obj.id, keep_ips={str(f["ip_address"]) for f in requested})
        return False

    def delete_probe(self, table: Table) -> ColumnElement[bool]:
        from neutrino.domain.models import PortForwarding

        return exists().where(PortForwarding.internal_port_id == table.c.id)

    def before_delete(self, session: Session, ctx: Context, cfg: Any, obj: Any) -> None:
        from neutrino.domain.services import port_forwardings

        port_forwardings.remove_for_port(session, obj.id)


class PortForwardingPlugin(ServicePlugin):
    plugin_type = "PORTFORWARDING"
    extensions = (
        ApiExtension(
            "floating-ip-port-forwarding",
            "Floating IP Port Forwarding",
            "Allow port forwarding from floating IP port to an internal port",
        ),
        ApiExtension(
            "expose-port-forwarding-in-fip",
            "Expose Floating IP port forwardings",
            "Expose port forwarding fields in floating IP response",
        ),
        ApiExtension(
            "floating-ip-port-forwarding-description",
            "Floating IP Port Forwarding new attribute description",
            "Add a description field to Port Forwarding rules",
        ),
        ApiExtension(
            "floating-ip-port-forwarding-port-ranges",
            "Floating IP Port Forwarding support port ranges",
            "Add support to port ranges",
        ),
        ApiExtension(
            "floating-ip-port-forwarding-detail",
            "Floating IP port forwarding detail",
            "Allow list floating ip return more port forwarding data, include'id' and 'internal_port_id'",
        ),
    )

    def routers(self) -> list[Any]:
        from neutrino.api.routes import port_forwardings

        return [port_forwardings.router]

    def resources(self) -> list[Any]:
        from neutrino.api.routes.port_forwardings import PORT_FORWARDING

        return [PORT_FORWARDING]

    def port_extensions(self) -> list[Extension]:
        return [PortForwardingsFollowPorts()]
