"""The ``qos`` service plugin: QoS policies and rules, ``qos_policy_id`` on networks and ports.

On by default, as the trunk plugin. QoS policies are shared through the core
``/v2.0/rbac-policies`` (object type ``qos_policy``, domain/rbac/qos_policy_type.py). The OVS
agent enforces the bandwidth limits and DSCP marks of the ports bound to its host
(docs/dataplane.md, "QoS").
"""

from __future__ import annotations

from typing import Any

from neutrino.domain.services.extensions import Extension
from neutrino.plugins.api import ApiExtension, ServicePlugin


class QosPlugin(ServicePlugin):
    plugin_type = "QOS"
    extensions = (
        ApiExtension("qos", "Quality of Service", "The Quality of Service extension."),
        ApiExtension("qos-bw-limit-direction", "Direction for QoS bandwidth limit rule",
                     "Allow to configure QoS bandwidth limit rule with specific direction: ingress or egress"),
        ApiExtension("qos-default", "QoS default policy", "Expose the QoS default policy per project"),
        ApiExtension("qos-rule-type-details", "QoS rule type details",
                     "Expose details about QoS rule types supported by loaded backend drivers"),
        ApiExtension("qos-bw-minimum-ingress", "Ingress direction for QoS minimum bandwidth rule",
                     "Allow to configure QoS minumum bandwidth rule with ingress direction."),
        ApiExtension("qos-port-network-policy", "QoS port network policy ID",
                     "Adds a the QoS network ID to the port definition"),
        ApiExtension("qos-pps-minimum", "QoS minimum packet rate rule",
                     "Allow to configure QoS minimum packet rate rule."),
        ApiExtension("port-resource-request", "Port Resource",
                     "Expose resource request to Port"),
        ApiExtension("port-resource-request-groups", "Port Resource Request Groups",
                     "Support requesting multiple groups of resources and traits from the same RP subtree in "
                     "resource_request field"),
    )  # fmt: skip

    def routers(self) -> list[Any]:
        from neutrino.api.routes import qos as qos_routes
        from neutrino.api.routes import resources, tags
        from neutrino.domain.services import qos_policies

        # the rules' routes last: /qos/policies/{id}/tags is the tags router's. Neutron's tag
        # extension also answers /v2.0/policies/{id}/tags (its resource name, without the prefix)
        return [resources.build_router(qos_routes.POLICY, qos_policies), tags.build_router(qos_routes.POLICY, qos_policies),
                tags.build_router(qos_routes.POLICY_TAGS, qos_policies), qos_routes.router]  # fmt: skip

    def attributes(self) -> dict[str, list[Any]]:
        from neutrino.api.routes import qos as qos_routes

        return {"networks": qos_routes.NETWORK_ATTRS, "ports": qos_routes.PORT_ATTRS}

    def resources(self) -> list[Any]:
        from neutrino.api.routes import qos as qos_routes

        return [qos_routes.POLICY]

    def port_extensions(self) -> list[Extension]:
        from neutrino.domain.services import qos_bindings

        return [qos_bindings.PortQos()]

    def network_extensions(self) -> list[Extension]:
        from neutrino.domain.services import qos_bindings

        return [qos_bindings.NetworkQos()]
