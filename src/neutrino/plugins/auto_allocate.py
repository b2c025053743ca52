"""The ``auto_allocate`` service plugin: get-me-a-network (Neutron's ``auto_allocate``).

It serves ``/v2.0/auto-allocated-topology/{project_id}`` and adds ``is_default`` to networks
(domain/services/default_external.py). It builds on the router plugin.
"""

from __future__ import annotations

from typing import Any

from neutrino.domain.services.extensions import Extension
from neutrino.plugins.api import ApiExtension, ServicePlugin


EXTENSION = ApiExtension("auto-allocated-topology", "Auto Allocated Topology Services", "Auto Allocated Topology Services.")


class AutoAllocatePlugin(ServicePlugin):
    plugin_type = "auto-allocated-topology"
    extensions = (EXTENSION,)

    def routers(self) -> list[Any]:
        from neutrino.api.routes import auto_allocate

        return [auto_allocate.router]

    def network_extensions(self) -> list[Extension]:
        from neutrino.domain.services import default_external

        return [default_external.DefaultExternalNetwork()]
