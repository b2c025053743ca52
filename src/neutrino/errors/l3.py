"""Routers, interfaces, gateways, extra routes and floating IPs (neutron-lib's exceptions/l3.py,
exceptions/extraroute.py and the L3 ones of exceptions/__init__.py).
"""

from __future__ import annotations

from neutrino.errors.base import BadRequest, InUse, InvalidInput, NotFound


class RouterNotFound(NotFound):
    template = "Router %(router_id)s could not be found"


class FloatingIPNotFound(NotFound):
    template = "Floating IP %(floatingip_id)s could not be found"


class RouterInUse(InUse):
    template = "Router %(router_id)s %(reason)s"

    def __init__(self, message: str | None = None, **kwargs: object) -> None:
        kwargs.setdefault("reason", "still has ports")
        super().__init__(message, **kwargs)


class RouterInterfaceNotFound(NotFound):
    template = "Router %(router_id)s does not have an interface with id %(port_id)s"


class RouterInterfaceNotFoundForSubnet(NotFound):
    template = "Router %(router_id)s has no interface on subnet %(subnet_id)s"


class RouterInterfaceInUseByFloatingIP(InUse):
    template = (
        "Router interface for subnet %(subnet_id)s on router %(router_id)s cannot be deleted, "
        "as it is required by one or more floating IPs."
    )


class RouterInterfaceInUseByRoute(InUse):
    template = (
        "Router interface for subnet %(subnet_id)s on router %(router_id)s cannot be deleted, "
        "as it is required by one or more routes."
    )


class RouterExternalGatewayInUseByFloatingIp(InUse):
    template = (
        "Gateway cannot be updated for router %(router_id)s, since a gateway to external "
        "network %(net_id)s is required by one or more floating IPs."
    )


class ExternalGatewayForFloatingIPNotFound(NotFound):
    template = (
        "External network %(external_network_id)s is not reachable from subnet %(subnet_id)s.  "
        "Therefore, cannot associate Port %(port_id)s with a Floating IP."
    )


class FloatingIPPortAlreadyAssociated(InUse):
    template = (
        "Cannot associate floating IP %(floating_ip_address)s (%(fip_id)s) with port "
        "%(port_id)s using fixed IP %(fixed_ip)s, as that fixed IP already has a floating IP "
        "on external network %(net_id)s."
    )


class ExternalIpAddressExhausted(BadRequest):
    template = "Unable to find any IP address on external network %(net_id)s."


class ServicePortInUse(InUse):
    template = "Port %(port_id)s cannot be deleted directly via the port API: %(reason)s."


class SubnetMismatchForPort(BadRequest):
    template = "Subnet on port %(port_id)s does not match the requested subnet %(subnet_id)s."


class InvalidRoutes(InvalidInput):
    template = "Invalid format for routes: %(routes)s, %(reason)s"


class RoutesExhausted(BadRequest):
    template = (
        "Unable to complete operation for %(router_id)s. "
        "The number of routes exceeds the maximum %(quota)s."
    )
