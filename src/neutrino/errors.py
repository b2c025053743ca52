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


# ML2 segments and external networks (neutron-lib's exceptions/__init__.py)


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


# security groups, port security, allowed address pairs, extra DHCP options (neutron's
# extensions/securitygroup.py and neutron-lib's exceptions/{port_security,allowedaddresspairs})


class InvalidCIDR(BadRequest):
    template = "Invalid CIDR %(input)s given as IP prefix."


class SecurityGroupNotFound(NotFound):
    template = "Security group %(id)s does not exist"


class SecurityGroupRuleNotFound(NotFound):
    template = "Security group rule %(id)s does not exist"


class SecurityGroupInUse(InUse):
    template = "Security Group %(id)s %(reason)s."

    def __init__(self, message: str | None = None, **kwargs: object) -> None:
        kwargs.setdefault("reason", "in use")
        super().__init__(message, **kwargs)


class SecurityGroupCannotRemoveDefault(InUse):
    template = "Insufficient rights for removing default security group."


class SecurityGroupCannotUpdateDefault(InUse):
    template = "Updating default security group not allowed."


class SecurityGroupDefaultAlreadyExists(InUse):
    template = "Default security group already exists."


class SecurityGroupRuleExists(InUse):
    template = "Security group rule already exists. Rule id is %(rule_id)s."


class SecurityGroupRuleParameterConflict(InvalidInput):
    template = "Conflicting value ethertype %(ethertype)s for CIDR %(cidr)s"


class SecurityGroupRemoteGroupAndRemoteIpPrefix(InvalidInput):
    template = "Only remote_ip_prefix or remote_group_id may be provided."


class SecurityGroupProtocolRequiredWithPorts(InvalidInput):
    template = "Must also specify protocol if port range is given."


class SecurityGroupInvalidPortRange(InvalidInput):
    template = "For TCP/UDP protocols, port_range_min must be <= port_range_max"


class SecurityGroupInvalidPortValue(InvalidInput):
    template = "Invalid value for port %(port)s."


class SecurityGroupInvalidIcmpValue(InvalidInput):
    template = "Invalid value for ICMP %(field)s (%(attr)s) %(value)s. It must be 0 to 255."


class SecurityGroupMissingIcmpType(InvalidInput):
    template = "ICMP code (port-range-max) %(value)s is provided but ICMP type (port-range-min) is missing."


class SecurityGroupInvalidProtocolForPort(InvalidInput):
    template = (
        "Invalid protocol %(protocol)s for port range, only supported for "
        "%(valid_port_protocols)s protocols."
    )


class SecurityGroupRuleInvalidProtocol(InvalidInput):
    template = (
        "Security group rule protocol %(protocol)s not supported. Only protocol values "
        "%(values)s and integer representations [0 to 255] are supported."
    )


class SecurityGroupRuleInvalidEtherType(InvalidInput):
    template = (
        "Security group rule for ethertype '%(ethertype)s' not supported. "
        "Allowed values are %(values)s."
    )


class SecurityGroupEthertypeConflictWithProtocol(InvalidInput):
    template = "Invalid ethertype %(ethertype)s for protocol %(protocol)s."


class PortSecurityAndIPRequiredForSecurityGroups(InvalidInput):
    template = (
        "Port security must be enabled and port must have an IP address in order to use "
        "security groups."
    )


class PortSecurityPortHasSecurityGroup(InUse):
    template = (
        "Port has security group associated. Cannot disable port security or IP address "
        "until security group is removed."
    )


class AddressPairAndPortSecurityRequired(Conflict):
    template = "Port Security must be enabled in order to have allowed address pairs on a port."


class AllowedAddressPairsMissingIP(InvalidInput):
    template = "AllowedAddressPair must contain ip_address"


class DuplicateAddressPairInRequest(InvalidInput):
    template = (
        "Request contains duplicate address pair: mac_address %(mac_address)s "
        "ip_address %(ip_address)s."
    )


class AllowedAddressPairExhausted(BadRequest):
    template = "The number of allowed address pair exceeds the maximum %(quota)s."


class ExtraDhcpOptBadData(InvalidInput):
    template = "Invalid data format for extra-dhcp-opt: %(data)s."


# routers, interfaces, gateways, extra routes, floating IPs (neutron-lib's exceptions/l3.py,
# exceptions/extraroute.py and the L3 ones of exceptions/__init__.py)


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


# agents and the DHCP / L3 agent schedulers (neutron-lib's exceptions/agent.py,
# exceptions/dhcpagentscheduler.py and exceptions/l3agentscheduler.py)


class AgentNotFound(NotFound):
    template = "Agent %(id)s could not be found."


class InvalidDHCPAgent(AgentNotFound):
    template = "Agent %(id)s is not a valid DHCP Agent or has been disabled"


class InvalidL3Agent(AgentNotFound):
    template = "Agent %(id)s is not a L3 Agent or has been disabled"


class NetworkHostedByDHCPAgent(Conflict):
    template = "The network %(network_id)s has been already hosted by the DHCP Agent %(agent_id)s."


class NetworkNotHostedByDhcpAgent(Conflict):
    template = "The network %(network_id)s is not hosted by the DHCP agent %(agent_id)s."


class RouterHostedByL3Agent(Conflict):
    template = "The router %(router_id)s has been already hosted by the L3 Agent %(agent_id)s."


class RouterNotHostedByL3Agent(Conflict):
    template = "The router %(router_id)s is not hosted by L3 agent %(agent_id)s."


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


class SecurityGroupConflict(Conflict):
    template = "Error %(reason)s while attempting the operation."


class NetworkMTUSubnetConflict(Conflict):
    template = "MTU of %(net_id)s is not valid, subnet requires a minimum of %(mtu)s"
