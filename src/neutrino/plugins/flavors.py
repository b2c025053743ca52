"""The built-in ``flavors`` service plugin: Neutron's flavors plugin, which a stock Neutron
loads by default (flavors and service profiles, and the ``service-type`` extension's
``/v2.0/service-providers``).

A flavor's ``service_type`` names the plugin type of a loaded plugin, a profile's ``driver``
a provider of one (``domain/service_types.py``).
"""

from __future__ import annotations

from typing import Any

from neutrino.domain import service_types
from neutrino.plugins.api import ApiExtension, ServicePlugin


class FlavorsPlugin(ServicePlugin):
    plugin_type = service_types.FLAVORS
    extensions = (
        ApiExtension("flavors", "Neutron Service Flavors", "Flavor specification for Neutron advanced services."),
        ApiExtension("service-type", "Neutron Service Type Management",
                     "API for retrieving service providers for Neutron advanced services"),
    )

    def routers(self) -> list[Any]:
        from neutrino.api.routes import flavors as flavor_routes
        from neutrino.api.routes import resources
        from neutrino.domain.services import flavors, service_profiles

        return [
            flavor_routes.router,
            resources.build_router(flavor_routes.FLAVOR, flavors),
            resources.build_router(flavor_routes.SERVICE_PROFILE, service_profiles),
        ]

    def resources(self) -> list[Any]:
        from neutrino.api.routes import flavors as flavor_routes

        return [flavor_routes.FLAVOR, flavor_routes.SERVICE_PROFILE, flavor_routes.SERVICE_PROVIDER]
