"""ML2 segments and external networks (neutron-lib's exceptions/__init__.py).
"""

from __future__ import annotations

from neutrino.errors.base import Conflict, InUse, ServiceUnavailable


class NoNetworkAvailable(ServiceUnavailable):
    template = "Unable to create the network. No tenant network is available for allocation."


class VlanIdInUse(InUse):
    template = (
        "Unable to create the network. The VLAN %(vlan_id)s on physical network "
        "%(physical_network)s is in use."
    )


class TunnelIdInUse(InUse):
    template = "Unable to create the network. The tunnel ID %(tunnel_id)s is in use."


class FlatNetworkInUse(InUse):
    template = "Unable to create the flat network. Physical network %(physical_network)s is in use."


class ExternalNetworkInUse(InUse):
    template = (
        "External network %(net_id)s cannot be updated to be made non-external, since it has "
        "existing gateway ports."
    )


class NetworkMTUSubnetConflict(Conflict):
    template = "MTU of %(net_id)s is not valid, subnet requires a minimum of %(mtu)s"
