"""Networks, subnets, ports, addresses, quotas and revisions (neutron-lib's exceptions/__init__.py).
"""

from __future__ import annotations

from neutrino.errors.base import BadRequest, Conflict, InUse, NotFound, PreconditionFailed, ServiceUnavailable


class NetworkNotFound(NotFound):
    template = "Network %(net_id)s could not be found."


class SubnetNotFound(NotFound):
    template = "Subnet %(subnet_id)s could not be found."


class PortNotFound(NotFound):
    template = "Port %(port_id)s could not be found."


class TagNotFound(NotFound):
    template = "Tag %(tag)s could not be found for %(resource)s %(resource_id)s."


class ProjectNotFound(NotFound):
    template = "Could not find project: %(project_id)s."


class NetworkInUse(InUse):
    template = (
        "Unable to complete operation on network %(net_id)s. "
        "There are one or more ports still in use on the network."
    )


class SubnetInUse(InUse):
    template = "Unable to complete operation on subnet %(subnet_id)s: %(reason)s."

    def __init__(self, message: str | None = None, **kwargs: object) -> None:
        kwargs.setdefault("reason", "One or more ports have an IP allocation from this subnet")
        super().__init__(message, **kwargs)


class PortInUse(InUse):
    template = (
        "Unable to complete operation on port %(port_id)s for network %(net_id)s. "
        "Port already has an attached device %(device_id)s."
    )


class MacAddressInUse(InUse):
    template = (
        "Unable to complete operation for network %(net_id)s. "
        "The mac address %(mac)s is in use."
    )


class IpAddressAlreadyAllocated(Conflict):
    template = "IP address %(ip)s already allocated in subnet %(subnet_id)s"


class IpAddressGenerationFailure(Conflict):
    template = "No more IP addresses available for subnet %(subnet_id)s."


class InvalidIpForSubnet(BadRequest):
    template = "IP address %(ip_address)s is not a valid IP for the specified subnet."


class InvalidIpForNetwork(BadRequest):
    template = (
        "IP address %(ip_address)s is not a valid IP for any of the subnets on the "
        "specified network."
    )


class AllocationOnAutoAddressSubnet(BadRequest):
    template = (
        "IPv6 address %(ip)s cannot be directly assigned to a port on subnet %(subnet_id)s "
        "as the subnet is configured for automatic addresses"
    )


class InvalidAllocationPool(BadRequest):
    template = "The allocation pool %(pool)s is not valid."


class OutOfBoundsAllocationPool(BadRequest):
    template = "The allocation pool %(pool)s spans beyond the subnet cidr %(subnet_cidr)s."


class OverlappingAllocationPools(Conflict):
    template = "Found overlapping allocation pools: %(pool_1)s %(pool_2)s for subnet %(subnet_cidr)s."


class GatewayConflictWithAllocationPools(Conflict):
    template = "Gateway ip %(ip_address)s conflicts with allocation pool %(pool)s."


class GatewayIpInUse(InUse):
    template = "Current gateway ip %(ip_address)s already in use by port %(port_id)s. Unable to update."


class HostRoutesExhausted(BadRequest):
    template = (
        "Unable to complete operation for %(subnet_id)s. "
        "The number of host routes exceeds the limit %(quota)s."
    )


class DNSNameServersExhausted(BadRequest):
    template = (
        "Unable to complete operation for %(subnet_id)s. "
        "The number of DNS nameservers exceeds the limit %(quota)s."
    )


class OverQuota(Conflict):
    template = "Quota exceeded for resources: %(overs)s."


class RevisionNumberConstraintFailed(PreconditionFailed):
    template = "Constrained to %(expected)s, but current revision is %(current)s"


class InvalidQuotaValue(Conflict):
    template = (
        "Change would make usage less than 0 for the following resources: %(unders)s."
    )


class DatabaseRetryExhausted(ServiceUnavailable):
    """A write lost every race against concurrent writers (should be very rare)."""

    template = "The database is busy; please retry the request."


class MacAddressGenerationFailure(ServiceUnavailable):
    template = "Unable to generate unique mac on network %(net_id)s."
