"""RBAC policies, availability zones, subnet service types and MAC changes (neutron-lib's and
Neutron's templates)."""

from __future__ import annotations

from neutrino.errors.base import BadRequest, Conflict, InUse, NotFound


class RbacPolicyNotFound(NotFound):
    template = "RBAC policy of type %(object_type)s with ID %(id)s not found"


class RbacPolicyInUse(Conflict):
    template = "RBAC policy on object %(object_id)s cannot be removed because other objects depend on it.\nDetails: %(details)s"


class RbacPolicyInitError(BadRequest):
    template = "Failed to create RBAC policy on object %(object_id)s because %(reason)s."


class DuplicateRbacPolicy(Conflict):
    template = "An RBAC policy already exists with those values."


class InvalidActionForType(BadRequest):
    template = "Invalid action '%(action)s' for object type '%(object_type)s'. Valid actions: %(valid_actions)s"


class AvailabilityZoneNotFound(NotFound):
    template = "AvailabilityZone %(availability_zone)s could not be found."


class InvalidSubnetServiceType(BadRequest):
    template = "Invalid input for operation: Subnet service type %(service_type)s does not correspond to a valid device owner."


class IpAddressGenerationFailureNoMatchingSubnet(Conflict):
    template = "No valid service subnet for the given device owner, network %(network_id)s, service type %(service_type)s."


class PortBound(InUse):
    template = (
        "Unable to complete operation on port %(port_id)s, port is already bound, port type: %(vif_type)s, "
        "old_mac %(old_mac)s, new_mac %(new_mac)s."
    )


class UnsupportedPortDeviceOwner(Conflict):
    template = "Operation %(op)s is not supported for device_owner %(device_owner)s on port %(port_id)s."


class DefaultExternalNetworkExists(Conflict):
    template = "Default external network %(net_id)s already exists"
