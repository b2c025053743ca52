"""The built-in ``router`` service plugin: Neutron's L3 API (routers, floating IPs).

Routers and floating IPs live in the core database schema and projection either way; this
plugin decides whether the API offers them, as ``service_plugins = router`` does in Neutron.
"""

from __future__ import annotations

from typing import Any

from neutrino.domain import service_types
from neutrino.domain.service_types import ServiceProvider
from neutrino.domain.services.extensions import Extension
from neutrino.plugins.api import ApiExtension, ServicePlugin


class RouterPlugin(ServicePlugin):
    plugin_type = "L3_ROUTER_NAT"
    extensions = (
        ApiExtension(
            "router",
            "Neutron L3 Router",
            "Router abstraction for basic L3 forwarding between L2 Neutron networks and access to "
            "external networks via a NAT gateway.",
        ),
        ApiExtension(
            "ext-gw-mode",
            "Neutron L3 Configurable external gateway mode",
            "Extension of the router abstraction for specifying whether SNAT should occur on the "
            "external gateway",
        ),
        ApiExtension("extraroute", "Neutron Extra Route", "Extra routes configuration for L3 router"),
        ApiExtension(
            "extraroute-atomic",
            "Atomically add/remove extra routes",
            "Edit extra routes of a router on server side by atomically adding/removing extra routes",
        ),
        ApiExtension("l3_agent_scheduler", "L3 Agent Scheduler", "Schedule routers among l3 agents"),
        ApiExtension("l3-ha", "HA Router extension", "Adds HA capability to routers."),
        ApiExtension(
            "fip-port-details", "Floating IP Port Details Extension", "Add port_details attribute to Floating IP resource"
        ),
        ApiExtension("floatingip-pools", "Floating IP Pools Extension", "Provides a floating IP pools API."),
        ApiExtension("router_availability_zone", "Router Availability Zone", "Availability zone support for router."),
        # Neutron's conntrack_helper service plugin; here part of the router plugin (the helpers
        # are router sub-resources, set by the L3 agent in the router's namespace)
        ApiExtension("l3-conntrack-helper", "L3 Conntrack helper", "Allow adding CT target rules for conntrack helper"),
        ApiExtension("expose-l3-conntrack-helper", "Expose CT target rules for conntrack helper",
                     "Expose allow adding CT target rules for conntrack helper"),
    )

    def routers(self) -> list[Any]:
        from neutrino.api.attributes import FLOATINGIP, ROUTER
        from neutrino.api.routes import conntrack_helpers, floatingip_pools, resources, tags
        from neutrino.api.routes import routers as router_actions
        from neutrino.domain.services import floatingips
        from neutrino.domain.services import routers as l3_routers

        out: list[Any] = []
        for spec, service in ((ROUTER, l3_routers), (FLOATINGIP, floatingips)):
            out += [resources.build_router(spec, service), tags.build_router(spec, service)]
        out.append(router_actions.router)
        out.append(floatingip_pools.router)
        out.append(conntrack_helpers.router)
        return out

    def resources(self) -> list[Any]:
        from neutrino.api.attributes import FLOATINGIP, ROUTER

        return [ROUTER, FLOATINGIP]

    def service_providers(self) -> list[ServiceProvider]:
        """Neutron's L3 plugin registers one provider per router kind it can build (names and
        driver paths as Neutron's, so flavor profiles written for Neutron validate here);
        neutrino builds legacy and HA routers, not DVR ones (docs/neutron-behaviour.md)."""
        prefix = "neutron.services.l3_router.service_providers."
        return [
            ServiceProvider(service_types.L3, "ha", prefix + "ha.HaDriver"),
            ServiceProvider(service_types.L3, "single_node", prefix + "single_node.SingleNodeDriver"),
        ]

    def port_extensions(self) -> list[Extension]:
        from neutrino.domain.services import l3_ports

        return [l3_ports.L3PortGuard()]

    def network_extensions(self) -> list[Extension]:
        from neutrino.domain.services import external_network_delete

        return [external_network_delete.UnassociatedFloatingIPsGo()]
