"""Security groups, port security, allowed address pairs and extra DHCP options (Neutron's
extensions/securitygroup.py, neutron-lib's exceptions/port_security.py and
exceptions/allowedaddresspairs.py).
"""

from __future__ import annotations

from neutrino.errors.base import BadRequest, Conflict, InUse, InvalidInput, NotFound


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


class SecurityGroupMultipleRemoteEntites(InvalidInput):
    template = "Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may be provided."


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


class SecurityGroupConflict(Conflict):
    template = "Error %(reason)s while attempting the operation."


# --- address groups (neutron-lib's exceptions/address_group.py) ------------------------------


class AddressGroupNotFound(NotFound):
    template = "Address group %(address_group_id)s could not be found."


class AddressGroupInUse(InUse):
    template = "Address group %(address_group_id)s is in use on one or more security group rules."


class AddressesNotFound(NotFound):
    template = "Addresses %(addresses)s not found in the address group %(address_group_id)s."


class AddressesAlreadyExist(BadRequest):
    template = "Addresses %(addresses)s already exist in the address group %(address_group_id)s."


# --- default security group rules (Neutron's extensions/security_groups_default_rules.py) -------


class DefaultSecurityGroupRuleNotFound(NotFound):
    template = "Default Security Group rule %(id)s does not exist"


class DefaultSecurityGroupRuleExists(InUse):
    template = "Default Security group rule already exists. Rule id is %(rule_id)s."


class DuplicateDefaultSgRuleInPost(InUse):
    template = "Duplicate Default Security Group Rule in POST."
