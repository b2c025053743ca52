"""Subnet pools and address scopes (neutron-lib's exceptions/__init__.py and
exceptions/address_scope.py; docs/neutron-behaviour.md, "Subnet pools and address scopes").

``SubnetAllocationError`` derives from no HTTP class in neutron-lib, so Neutron answers it
with 500, and so does neutrino (a requested cidr outside the pool's free space, or a full pool).
"""

from __future__ import annotations

from neutrino.errors.base import BadRequest, Conflict, InUse, NeutronError, NotFound


class SubnetPoolNotFound(NotFound):
    template = "Subnet pool %(subnetpool_id)s could not be found."


class AddressScopeNotFound(NotFound):
    template = "Address scope %(address_scope_id)s could not be found."


class SubnetPoolDeleteError(BadRequest):
    template = "Unable to delete subnet pool: %(reason)s."


class SubnetPoolQuotaExceeded(Conflict):
    """An ``OverQuota`` in neutron-lib: 409."""

    template = "Per-project subnet pool prefix quota exceeded."


class SubnetAllocationError(NeutronError):
    template = "Failed to allocate subnet: %(reason)s."


class MinPrefixSubnetAllocationError(BadRequest):
    template = (
        "Unable to allocate subnet with prefix length %(prefixlen)s, "
        "minimum allowed prefix is %(min_prefixlen)s."
    )


class MaxPrefixSubnetAllocationError(BadRequest):
    template = (
        "Unable to allocate subnet with prefix length %(prefixlen)s, "
        "maximum allowed prefix is %(max_prefixlen)s."
    )


class EmptySubnetPoolPrefixList(BadRequest):
    template = "Empty subnet pool prefix list."


class PrefixVersionMismatch(BadRequest):
    template = "Cannot mix IPv4 and IPv6 prefixes in a subnet pool."


class IllegalSubnetPoolPrefixBounds(BadRequest):
    template = (
        "Illegal prefix bounds: %(prefix_type)s=%(prefixlen)s, "
        "%(base_prefix_type)s=%(base_prefixlen)s."
    )


class IllegalSubnetPoolPrefixUpdate(BadRequest):
    template = "Illegal update to prefixes: %(msg)s."


class IllegalSubnetPoolAssociationToAddressScope(BadRequest):
    template = (
        "Illegal subnetpool association: subnetpool %(subnetpool_id)s "
        "cannot be associated with address scope %(address_scope_id)s."
    )


class IllegalSubnetPoolIpVersionAssociationToAddressScope(BadRequest):
    template = (
        "Illegal subnetpool association: subnetpool %(subnetpool_id)s "
        "cannot associate with address scope %(address_scope_id)s "
        "because subnetpool ip_version is not %(ip_version)s."
    )


class IllegalSubnetPoolUpdate(BadRequest):
    template = "Illegal subnetpool update : %(reason)s."


class AddressScopePrefixConflict(Conflict):
    template = (
        "Failed to associate address scope: subnetpools "
        "within an address scope must have unique prefixes."
    )


class NetworkSubnetPoolAffinityError(BadRequest):
    template = "Subnets hosted on the same network must be allocated from the same subnet pool."


class NetworkAddressScopeAffinityError(BadRequest):
    template = (
        "Subnets of the same address family hosted on the same "
        "network must all participate in the same address scope."
    )


class AddressScopeInUse(InUse):
    template = (
        "Unable to complete operation on address scope %(address_scope_id)s. "
        "There are one or more subnet pools in use on the address scope."
    )


class AddressScopeUpdateError(BadRequest):
    template = "Unable to update address scope %(address_scope_id)s : %(reason)s."
