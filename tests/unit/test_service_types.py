"""subnet-service-types: which subnets serve which device owner (pure rules)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from neutrino import errors
from neutrino.domain.ipam import service_types

pytestmark = pytest.mark.unit


@dataclass(frozen=True)
class Sub:
    id: str
    service_types: tuple[str, ...] = ()
    enable_dhcp: bool = True


def test_typed_subnets_serve_their_owners_only_and_come_first():
    plain, typed = Sub("plain"), Sub("typed", ("compute:nova",))
    assert [s.id for s in service_types.eligible([plain, typed], "compute:nova", "n")] == ["typed", "plain"]
    assert [s.id for s in service_types.eligible([plain, typed], "", "n")] == ["plain"]


def test_dhcp_ports_use_any_subnet_with_dhcp():
    typed = Sub("t", ("compute:nova",))
    assert service_types.eligible([typed], "network:dhcp", "n") == [typed]
    with pytest.raises(errors.IpAddressGenerationFailureNoMatchingSubnet):
        service_types.eligible([Sub("t", ("compute:nova",), enable_dhcp=False)], "network:dhcp", "n")


def test_no_subnets_is_no_error_but_no_matching_subnet_is():
    assert service_types.eligible([], "", "n") == []
    with pytest.raises(errors.IpAddressGenerationFailureNoMatchingSubnet) as err:
        service_types.eligible([Sub("t", ("network:router_gateway",))], "compute:nova", "n")
    assert err.value.status == 409


def test_validation_as_neutron_lib():
    assert service_types.validate(["network:foo", "compute:nova", "test:x", "network:foo"]) == [
        "network:foo", "compute:nova", "test:x"
    ]
    with pytest.raises(errors.InvalidSubnetServiceType):
        service_types.validate(["bogus:x"])
    with pytest.raises(errors.InvalidInput):
        service_types.validate([3])
    with pytest.raises(errors.BadRequest):
        service_types.validate("network:foo")
