"""Address groups as pure logic: address normalisation and validation, the firewall sets a
rule naming an address group matches, and rules from the default rule templates."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from neutrino import errors
from neutrino.agent.firewall import rules as fw
from neutrino.contract.desired import BoundPort, FixedIP, RemoteGroup, SecurityRule
from neutrino.domain.secgroups import address_groups as ag
from neutrino.domain.secgroups.rules import PARENT, from_templates, normalise, rule_key

pytestmark = pytest.mark.unit

AG = "0f0e0d0c-0000-4000-8000-0000000000ag"


def test_create_list_needs_prefix_lengths_and_distinct_items() -> None:
    assert ag.validate_subnet_list(["10.10.10.3/32", "192.168.0.10/24", "2001:db8::f00/64"]) is None
    assert ag.validate_subnet_list(["10.20.30.40"]) == "'10.20.30.40' is not a valid IP subnet"
    assert ag.validate_subnet_list(["this is bad IP address"]) is not None
    assert ag.validate_subnet_list(["10.0.0.0/8", "10.0.0.0/8"]) == "Duplicate items in the list: '10.0.0.0/8'"
    assert ag.validate_subnet_list("10.0.0.0/8") is not None


def test_addresses_are_stored_as_networks_and_split_by_presence() -> None:
    assert ag.network_of("192.168.0.10/24") == "192.168.0.0/24"
    assert ag.network_of("2001:db8::f00/64") == "2001:db8::/64"
    assert ag.network_of("10.200.200.200") == "10.200.200.200/32"  # the actions take bare addresses
    with pytest.raises(errors.InvalidInput):
        ag.network_of("this is bad IP address")
    present, missing = ag.split_requested(["10.0.0.0/24"], ["10.0.0.7/24", "10.1.0.1", "10.1.0.1/32"])
    assert present == ["10.0.0.0/24"] and missing == ["10.1.0.1/32"]
    assert ag.by_version(["2001:db8::/64", "10.0.0.0/24", "10.0.0.1/32"]) == (
        ("10.0.0.0/24", "10.0.0.1/32"), ("2001:db8::/64",),
    )


def test_one_remote_only_and_the_address_group_is_part_of_the_rule_key() -> None:
    with pytest.raises(errors.SecurityGroupMultipleRemoteEntites):
        normalise({"direction": "ingress", "remote_ip_prefix": "10.0.0.0/8", "remote_address_group_id": AG})
    with pytest.raises(errors.SecurityGroupMultipleRemoteEntites):
        normalise({"direction": "ingress", "remote_group_id": "sg", "remote_address_group_id": AG})
    with_ag = normalise({"direction": "ingress", "remote_address_group_id": AG})
    assert with_ag.remote_address_group_id == AG
    assert rule_key(with_ag, "g") != rule_key(normalise({"direction": "ingress"}), "g")


def _port(*rules: SecurityRule) -> BoundPort:
    fixed = (FixedIP("sub", "10.0.0.10", "10.0.0.0/24", None),)
    return BoundPort("a1b2c3d4-0000-4000-8000-00000000000a", "net", "fa:16:3e:00:00:0a", True, "compute:nova", "vm", "ovs", None, fixed, True,
                     ("sg-1",), rules, (), 1)  # fmt: skip


def test_a_rule_with_an_address_group_matches_the_groups_set_of_its_family() -> None:
    tcp22 = SecurityRule("sg-1", "ingress", "IPv4", "tcp", 22, 22, (), None, AG)
    v6 = SecurityRule("sg-1", "ingress", "IPv6", "tcp", 22, 22, (), None, AG)
    group = RemoteGroup(AG, ("10.20.0.0/16", "192.0.2.7/32"), ())
    body = fw.render([_port(tcp22, v6)], [group])
    name = fw.set_name(AG, 4)
    assert f"set {name} {{" in body and "elements = { 10.20.0.0/16, 192.0.2.7 }" in body
    assert f"ip saddr @{name} tcp dport 22 accept" in body
    assert fw.set_name(AG, 6) not in body  # no IPv6 address: the IPv6 rule matches nothing
    # an empty group matches nothing (it is not "any remote")
    assert "tcp dport 22 accept" not in fw.render([_port(tcp22)], [RemoteGroup(AG, (), ())])


def test_new_groups_take_their_rules_from_the_templates() -> None:
    def template(direction: str, ethertype: str, remote: str | None = None, **kw: object) -> SimpleNamespace:
        base = dict(protocol=None, port_range_min=None, port_range_max=None, remote_ip_prefix=None,
                    remote_address_group_id=None)  # fmt: skip
        return SimpleNamespace(direction=direction, ethertype=ethertype, remote_group_id=remote, **{**base, **kw})

    specs = from_templates(
        [template("egress", "IPv4"), template("ingress", "IPv6", PARENT),
         template("ingress", "IPv4", protocol="tcp", port_range_min=22, port_range_max=22)],
        "sg-new",
    )  # fmt: skip
    assert [(s.direction, s.ethertype, s.remote_group_id, s.protocol, s.port_range_min) for s in specs] == [
        ("egress", "IPv4", None, None, None),
        ("ingress", "IPv6", "sg-new", None, None),
        ("ingress", "IPv4", None, "tcp", 22),
    ]

