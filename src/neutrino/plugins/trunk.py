"""The built-in ``trunk`` service plugin: VLAN-aware instances (Neutron's trunk service).

The API (``/v2.0/trunks`` and the subport actions), ``trunk_details`` on parent ports and the
guards on ports in a trunk. The OVS agent wires what the projection tells it
(``contract.desired.TrunkState``; docs/dataplane.md, "Trunks").
"""

from __future__ import annotations

from typing import Any

from neutrino.domain.services.extensions import Extension
from neutrino.plugins.api import ApiExtension, ServicePlugin


class TrunkPlugin(ServicePlugin):
    plugin_type = "trunk"
    extensions = (
        ApiExtension("trunk", "Trunk Extension", "Provides support for trunk ports"),
        ApiExtension("trunk-details", "Trunk port details", "Expose trunk port details"),
    )

    def routers(self) -> list[Any]:
        from neutrino.api.routes import resources, tags
        from neutrino.api.routes import trunks as trunk_routes
        from neutrino.domain.services import trunks

        return [resources.build_router(trunk_routes.TRUNK, trunks), tags.build_router(trunk_routes.TRUNK, trunks),
                trunk_routes.router]

    def resources(self) -> list[Any]:
        from neutrino.api.routes import trunks as trunk_routes

        return [trunk_routes.TRUNK]

    def port_extensions(self) -> list[Extension]:
        from neutrino.domain.services import trunk_ports

        return [trunk_ports.TrunkPorts()]
