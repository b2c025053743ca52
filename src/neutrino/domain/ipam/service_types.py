"""subnet-service-types: which of a network's subnets may give an address to a port.

Pure rules, as Neutron applies them: a subnet with service types serves only ports whose
device_owner is one of them; a subnet without any serves every port; a DHCP port may take an
address from any subnet with DHCP enabled. Service subnets come first. A network that has
subnets but none for this device owner is an error (409), not an unaddressed port.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

from neutrino import errors

DHCP_OWNER = "network:dhcp"

# neutron-lib adds DEVICE_OWNER_COMPUTE_PREFIX (a string) to a list of prefixes, which adds its
# characters one by one: any service type starting with one of them is accepted, as there
VALID_PREFIXES = ("network:", "neutron:", *"compute:")


class _Served(Protocol):
    service_types: tuple[str, ...]
    enable_dhcp: bool


S = TypeVar("S", bound=_Served)


def serves(sub: _Served, device_owner: str) -> bool:
    if not sub.service_types or device_owner in sub.service_types:
        return True
    return device_owner == DHCP_OWNER and sub.enable_dhcp


def eligible(subnets: Sequence[S], device_owner: str, network_id: str) -> list[S]:
    """The subnets serving ``device_owner``, those with service types first."""
    found = [s for s in subnets if serves(s, device_owner)]
    if subnets and not found:
        raise errors.IpAddressGenerationFailureNoMatchingSubnet(network_id=network_id, service_type=device_owner)
    return sorted(found, key=lambda s: not s.service_types)


def validate(service_types: Any) -> list[str]:
    """neutron-lib's validate_subnet_service_types (errors are 400)."""
    if service_types is None:
        return []
    if not isinstance(service_types, list):
        raise errors.HTTPBadRequest(msg="Subnet service types must be a list.")
    for value in service_types:
        if not isinstance(value, str):
            raise errors.InvalidInput(error_message=f"Subnet service type {value} is not a string.")
        if not value.startswith(VALID_PREFIXES):
            raise errors.InvalidSubnetServiceType(service_type=value)
    return list(dict.fromkeys(service_types))
