"""Domain errors that carry Neutron's fault type and HTTP status.

The API layer turns any of these into ``{"NeutronError": {"type", "message", "detail"}}``
with ``status``; nothing else needs to know about HTTP. The ``type`` is the class name, as in
Neutron, so that clients that branch on it (tempest, the SDK) see the names they expect.
Messages follow neutron-lib's templates.
"""

from __future__ import annotations


class NeutronError(Exception):
    """Base of every error the API reports in Neutron's fault format."""

    status = 500
    template = "An unknown exception occurred."

    def __init__(self, message: str | None = None, **kwargs: object) -> None:
        self.kwargs = kwargs
        if message is None:
            try:
                message = self.template % kwargs
            except (KeyError, TypeError):
                message = self.template
        self.message = message
        super().__init__(message)

    @property
    def type(self) -> str:
        return type(self).__name__


# --- base classes, by HTTP status -------------------------------------------------------------


class BadRequest(NeutronError):
    status = 400
    template = "Bad %(resource)s request: %(msg)s."


class HTTPBadRequest(BadRequest):
    """Request-shape errors; Neutron raises these as webob exceptions, hence the name."""

    template = "%(msg)s"


class InvalidInput(BadRequest):
    template = "Invalid input for operation: %(error_message)s."


class NotAuthorized(NeutronError):
    status = 403
    template = "Not authorized."


class PolicyNotAuthorized(NotAuthorized):
    template = "%(action)s is disallowed by policy"


class NotFound(NeutronError):
    status = 404
    template = "An unknown exception occurred."


class HTTPNotFound(NotFound):
    template = "%(msg)s"


class Conflict(NeutronError):
    status = 409


class InUse(Conflict):
    template = "The resource is in use."


class PreconditionFailed(NeutronError):
    status = 412


class ServiceUnavailable(NeutronError):
    status = 503


class NotImplementedFault(NeutronError):
    status = 501
    template = "Not implemented."


# --- resources --------------------------------------------------------------------------------


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


# --- dataplane (used by agents later): requeue or give up -------------------------------------


class DataplaneError(Exception):
    """A failed side effect on a host; ``temporary`` tells the work queue to retry."""

    temporary = False


class TemporaryDataplaneError(DataplaneError):
    temporary = True


class PermanentDataplaneError(DataplaneError):
    temporary = False


class MacAddressGenerationFailure(ServiceUnavailable):
    template = "Unable to generate unique mac on network %(net_id)s."
