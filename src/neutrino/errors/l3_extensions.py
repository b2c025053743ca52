"""Errors of the floating IP port forwarding and auto-allocated topology service plugins and of
conntrack helpers (neutron's services/portforwarding/common/exceptions.py,
services/auto_allocate/exceptions.py and services/conntrack_helper/common/exceptions.py).
"""

from __future__ import annotations

from neutrino.errors.base import BadRequest, Conflict, InUse, NotFound


class PortForwardingNotFound(NotFound):
    template = "Port Forwarding %(id)s could not be found."


class PortForwardingNotSupportFilterField(BadRequest):
    template = "Port Forwarding filter %(filter)s is not supported."


class PortHasPortForwarding(BadRequest):
    template = (
        "Cannot associate floating IP to port %(port_id)s because it already has a Port Forwarding binding."
    )


class FipInUseByPortForwarding(InUse):
    template = "Floating IP %(id)s in use by Port Forwarding resources."


class PortHasBindingFloatingIP(InUse):
    template = (
        "Cannot create port forwarding to floating IP %(floating_ip_address)s (%(fip_id)s) with port "
        "%(port_id)s using fixed IP %(fixed_ip)s, as that port already has a binding floating IP."
    )


class AutoAllocationFailure(Conflict):
    template = "Deployment error: %(reason)s."


class DefaultExternalNetworkExists(Conflict):
    template = "A default external network already exists: %(net_id)s."


class ConntrackHelperNotFound(NotFound):
    template = "Conntrack Helper %(id)s could not be found."


class ConntrackHelperNotAllowed(BadRequest):
    template = "Conntrack Helper %(helper)s is not allowed."


class InvalidProtocolForHelper(BadRequest):
    template = (
        "Conntrack Helper %(helper)s does not support: %(protocol)s. Supported protocols are: %(supported_protocols)s"
    )


class NoVRIDAvailable(Conflict):
    """An HA router's project has all 254 VRRP ids of its HA network in use (l3-ha)."""

    template = (
        "No more Virtual Router Identifier (VRID) available when creating router %(router_id)s. "
        "The limit of number of HA Routers per tenant is 254."
    )
