"""Pure L3 rules: extra routes, router subnet overlap, gateway re-addressing, FIP targets."""

from __future__ import annotations

import pytest

from neutrino import errors
from neutrino.api import l3_validators
from neutrino.domain.l3 import rules
from neutrino.domain.l3.rules import SubnetRef

pytestmark = pytest.mark.unit

R1 = {"destination": "192.168.0.0/24", "nexthop": "10.0.0.5"}
R2 = {"destination": "192.168.0.0/24", "nexthop": "10.0.0.6"}
R3 = {"destination": "172.16.0.0/16", "nexthop": "10.0.0.7"}


def _validate(routes, max_routes=30):  # type: ignore[no-untyped-def]
    rules.validate_routes(
        "rid", routes, connected_cidrs=["10.0.0.0/24", "2001:db8::/64"],
        router_ips=["10.0.0.1", "2001:db8::1"], max_routes=max_routes,
    )


def test_routes_valid_and_ecmp():
    _validate([R1, R2, R3, {"destination": "2001:db8:9::/64", "nexthop": "2001:db8::9"}])
    _validate([])


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        ({"destination": "1.0.0.0/8", "nexthop": "10.0.1.5"}, "the nexthop is not connected with router"),
        ({"destination": "1.0.0.0/8", "nexthop": "10.0.0.1"}, "the nexthop is used by router"),
        ({"destination": "::/0", "nexthop": "2001:db8::1"}, "the nexthop is used by router"),
        ({"destination": "::/0", "nexthop": "2001:db9::1"}, "the nexthop is not connected with router"),
    ],
)
def test_routes_invalid(route, reason):
    with pytest.raises(errors.InvalidRoutes) as exc:
        _validate([R1, route])
    assert exc.value.status == 400 and reason in exc.value.message
    assert exc.value.message.startswith("Invalid format for routes: [")


def test_routes_exhausted():
    with pytest.raises(errors.RoutesExhausted) as exc:
        _validate([R1, R2, R3], max_routes=2)
    assert exc.value.message == "Unable to complete operation for rid. The number of routes exceeds the maximum 2."


def test_merge_subtract_diff():
    assert rules.merge_routes([R1], [R1, R2]) == [R1, R2]
    assert rules.merge_routes([], [{"destination": "2001:DB8::/64", "nexthop": "2001:db8:0::1"}]) == [
        {"destination": "2001:db8::/64", "nexthop": "2001:db8::1"}
    ]
    assert rules.subtract_routes([R1, R2, R3], [R2, {"destination": "9.9.9.0/24", "nexthop": "10.0.0.5"}]) == [R1, R3]
    added, removed = rules.diff_routes([R1, R2], [R2, R3, R3])
    assert added == [R3] and removed == [R1]
    assert rules.diff_routes([R1], [R1]) == ([], [])


def test_routes_via_subnet():
    assert rules.routes_via_subnet([R1], "10.0.0.0/24")
    assert not rules.routes_via_subnet([R1], "10.0.1.0/24")
    assert not rules.routes_via_subnet([R1], "2001:db8::/64")
    assert not rules.routes_via_subnet([], "10.0.0.0/24")


def test_router_subnet_checks():
    a = SubnetRef("a", "10.0.0.0/24")
    b = SubnetRef("b", "10.0.1.0/24")
    rules.check_new_router_subnets([b], held=[a], compare=[a])
    with pytest.raises(errors.BadRequest, match="Router already has a port on subnet a"):
        rules.check_new_router_subnets([a], held=[a], compare=[])
    with pytest.raises(errors.BadRequest, match="Cidr 10.0.0.128/25 of subnet c overlaps with cidr 10.0.0.0/24 of subnet a"):
        rules.check_new_router_subnets([SubnetRef("c", "10.0.0.128/25")], held=[a], compare=[a])
    # overlap only matters against the compared group (interfaces vs gateway)
    rules.check_new_router_subnets([SubnetRef("c", "10.0.0.0/16")], held=[a], compare=[])
    rules.check_new_router_subnets([SubnetRef("v6", "2001:db8::/64")], held=[a], compare=[a])


def test_external_ips_changed():
    held = [("s1", "172.24.4.10")]
    assert not rules.external_ips_changed(held, [])
    assert not rules.external_ips_changed(held, [{"subnet_id": "s1", "ip_address": "172.24.4.10"}])
    assert rules.external_ips_changed(held, [{"subnet_id": "s1", "ip_address": "172.24.4.11"}])
    assert rules.external_ips_changed(held, [{"subnet_id": "s2"}])
    assert rules.external_ips_changed([], [{"subnet_id": "s1"}])


def test_fip_fixed_address():
    ips = [("s4", "10.0.0.5"), ("s6", "2001:db8::5")]
    assert rules.fip_fixed_address("p", ips, None) == ("s4", "10.0.0.5")
    assert rules.fip_fixed_address("p", ips, "10.0.0.5") == ("s4", "10.0.0.5")
    with pytest.raises(errors.BadRequest, match="not an IPv4 address"):
        rules.fip_fixed_address("p", ips, "2001:db8::5")
    with pytest.raises(errors.BadRequest, match="Port p does not have fixed ip 10.0.0.6"):
        rules.fip_fixed_address("p", ips, "10.0.0.6")
    with pytest.raises(errors.BadRequest, match="no fixed IPv4 addresses"):
        rules.fip_fixed_address("p", [("s6", "2001:db8::5")], None)
    with pytest.raises(errors.BadRequest, match="multiple fixed IPv4 addresses"):
        rules.fip_fixed_address("p", [("s4", "10.0.0.5"), ("s4", "10.0.0.6")], None)


def test_choose_fip_router():
    assert rules.choose_fip_router([], "10.0.0.1") is None
    assert rules.choose_fip_router([("r2", "10.0.0.9"), ("r1", "10.0.0.8")], "10.0.0.1") == "r1"
    assert rules.choose_fip_router([("r1", "10.0.0.8"), ("r2", "10.0.0.1")], "10.0.0.1") == "r2"
    assert rules.choose_fip_router([("r3", "10.0.0.8")], None) == "r3"


def test_gateway_info_syntax():
    check = l3_validators.validate_external_gateway_info
    assert check(None) is None and check({}) is None
    info = {"network_id": "8c4bfd5c-7d8a-4f36-a6b6-0fb6b5b4f4a5", "enable_snat": "false"}
    assert check(info) is None and info["enable_snat"] is False
    assert "Expected keys" in (check({"enable_snat": True}) or "")
    assert "is not a valid UUID" in (check({"network_id": "x"}) or "")
    assert "Unexpected keys" in (check({"network_id": info["network_id"], "foo": 1}) or "")
    assert check({"network_id": info["network_id"], "external_fixed_ips": "x"})
    assert "not a dictionary" in (check([1]) or "")


def test_action_bodies():
    sid = "8c4bfd5c-7d8a-4f36-a6b6-0fb6b5b4f4a5"
    assert l3_validators.interface_info({"subnet_id": sid}) == (None, sid)
    assert l3_validators.interface_info({}) == (None, None)
    for bad in ([], {"port_id": 5}, {"subnet_id": "x"}):
        with pytest.raises(ValueError):
            l3_validators.interface_info(bad)
    assert l3_validators.extraroutes({"router": {"routes": [R1]}}) == [R1]
    assert l3_validators.extraroutes({"router": {"routes": None}}) == []
    for bad in ({}, {"router": []}, {"router": {}}, {"router": {"routes": [R1], "x": 1}},
                {"router": {"routes": [R1, R1]}}, {"router": {"routes": [{"destination": "x", "nexthop": "1.1.1.1"}]}}):
        with pytest.raises(ValueError):
            l3_validators.extraroutes(bad)
