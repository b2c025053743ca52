"""Pure security group logic: rule normalisation and validation, duplicate keys, default
templates, allowed address pairs and extra DHCP options (no database)."""

from __future__ import annotations

import pytest

from neutrino import errors
from neutrino.domain.secgroups import address_pairs, dhcp_opts, protocols
from neutrino.domain.secgroups.rules import RuleSpec, initial_rules, normalise, normalized_cidr, rule_key

pytestmark = pytest.mark.unit


def rule(**kw):  # type: ignore[no-untyped-def]
    return normalise({"direction": "ingress", **kw})


# --- ethertype and protocol -------------------------------------------------------------------


def test_defaults_and_ethertype_case():
    assert rule() == RuleSpec("ingress", "IPv4")
    assert rule(ethertype="ipv6").ethertype == "IPv6"
    assert rule(ethertype="IPV4").ethertype == "IPv4"
    for bad in ("IPv5", "", 4, None):
        with pytest.raises(errors.SecurityGroupRuleInvalidEtherType):
            rule(ethertype=bad)


def test_direction_is_required_and_checked():
    with pytest.raises(errors.HTTPBadRequest):
        normalise({"direction": "sideways"})
    with pytest.raises(errors.HTTPBadRequest):
        normalise({})


@pytest.mark.parametrize(
    ("given", "stored"),
    [("tcp", "tcp"), ("TCP", "tcp"), ("6", "6"), (6, "6"), ("0", "0"), ("255", "255"), ("any", None),
     ("ANY", None), (None, None), ("udplite", "udplite"), ("vrrp", "vrrp")],
)
def test_protocol_conversion(given, stored):
    assert protocols.convert(given) == stored


@pytest.mark.parametrize("bad", ["256", 256, -1, "foo", True, 1.5, [], "tcp6"])
def test_protocol_invalid(bad):
    with pytest.raises(errors.SecurityGroupRuleInvalidProtocol) as exc:
        protocols.convert(bad)
    assert exc.value.status == 400


def test_ipv6_icmp_aliases_are_canonical():
    assert rule(ethertype="IPv6", protocol="icmp").protocol == "ipv6-icmp"
    assert rule(ethertype="IPv6", protocol="icmpv6").protocol == "ipv6-icmp"
    assert rule(ethertype="IPv6", protocol="1").protocol == "58"
    assert rule(ethertype="IPv4", protocol="icmp").protocol == "icmp"


def test_ipv6_only_protocol_with_ipv4_conflicts():
    for proto in ("ipv6-icmp", "icmpv6", "58", "ipv6-frag", "43"):
        with pytest.raises(errors.SecurityGroupEthertypeConflictWithProtocol):
            rule(protocol=proto)
    assert rule(ethertype="IPv6", protocol="ipv6-frag").protocol == "ipv6-frag"


# --- port ranges ------------------------------------------------------------------------------


@pytest.mark.parametrize("proto", ["tcp", "udp", "sctp", "dccp", "udplite", "6", "17"])
def test_port_protocols_need_a_valid_range(proto):
    assert rule(protocol=proto, port_range_min=22, port_range_max=22).port_range_min == 22
    assert rule(protocol=proto, port_range_min="80", port_range_max="90").port_range_max == 90
    with pytest.raises(errors.SecurityGroupInvalidPortRange):
        rule(protocol=proto, port_range_min=90, port_range_max=80)
    with pytest.raises(errors.SecurityGroupInvalidPortRange):
        rule(protocol=proto, port_range_min=22)
    with pytest.raises(errors.SecurityGroupInvalidPortValue):
        rule(protocol=proto, port_range_min=0, port_range_max=10)
    with pytest.raises(errors.SecurityGroupInvalidPortValue):
        rule(protocol=proto, port_range_min=1, port_range_max=65536)


def test_full_range_is_no_range():
    r = rule(protocol="tcp", port_range_min=1, port_range_max=65535)
    assert (r.port_range_min, r.port_range_max) == (None, None)
    assert rule(protocol="tcp", port_range_min=1, port_range_max=65534).port_range_max == 65534


def test_ports_need_a_protocol():
    with pytest.raises(errors.SecurityGroupProtocolRequiredWithPorts):
        rule(port_range_min=22, port_range_max=22)


def test_icmp_type_and_code():
    r = rule(protocol="icmp", port_range_min=8, port_range_max=0)
    assert (r.port_range_min, r.port_range_max) == (8, 0)
    assert rule(protocol="icmp", port_range_min=8).port_range_max is None
    assert rule(ethertype="IPv6", protocol="ipv6-icmp", port_range_min=128).port_range_min == 128
    with pytest.raises(errors.SecurityGroupMissingIcmpType):
        rule(protocol="icmp", port_range_max=0)
    with pytest.raises(errors.SecurityGroupInvalidIcmpValue) as exc:
        rule(protocol="icmp", port_range_min=256)
    assert "ICMP type (port_range_min) 256" in exc.value.message
    with pytest.raises(errors.SecurityGroupInvalidIcmpValue):
        rule(protocol="icmp", port_range_min=3, port_range_max=300)


@pytest.mark.parametrize("proto", ["gre", "47", "esp", "vrrp", "0"])
def test_other_protocols_take_no_ports(proto):
    assert rule(protocol=proto).protocol == proto
    with pytest.raises(errors.SecurityGroupInvalidProtocolForPort) as exc:
        rule(protocol=proto, port_range_min=1, port_range_max=2)
    assert "DCCP, SCTP, TCP, UDP, UDPLITE" in exc.value.message


@pytest.mark.parametrize("bad", ["x", -1, 70000, True, 1.5, [1]])
def test_port_values(bad):
    with pytest.raises(errors.SecurityGroupInvalidPortValue):
        rule(protocol="tcp", port_range_min=bad, port_range_max=100)


# --- remote side ------------------------------------------------------------------------------


def test_prefix_gets_a_length_and_keeps_host_bits():
    assert rule(remote_ip_prefix="10.0.0.5").remote_ip_prefix == "10.0.0.5/32"
    assert rule(remote_ip_prefix="10.0.0.5/24").remote_ip_prefix == "10.0.0.5/24"
    assert normalized_cidr("10.0.0.5/24") == "10.0.0.0/24"
    assert rule(ethertype="IPv6", remote_ip_prefix="2001:DB8::1/64").remote_ip_prefix == "2001:db8::1/64"
    assert rule(remote_ip_prefix="").remote_ip_prefix is None


def test_prefix_family_must_match_ethertype():
    with pytest.raises(errors.SecurityGroupRuleParameterConflict) as exc:
        rule(remote_ip_prefix="::/0")
    assert exc.value.status == 400 and "IPv4" in exc.value.message
    with pytest.raises(errors.SecurityGroupRuleParameterConflict):
        rule(ethertype="IPv6", remote_ip_prefix="10.0.0.0/8")


@pytest.mark.parametrize("bad", ["10.0.0.0/33", "nonsense", " 10.0.0.0/8", 10, "fe80::1%eth0/64"])
def test_invalid_prefix(bad):
    with pytest.raises(errors.InvalidCIDR):
        rule(remote_ip_prefix=bad)


def test_only_one_remote():
    with pytest.raises(errors.SecurityGroupMultipleRemoteEntites):
        rule(remote_ip_prefix="10.0.0.0/8", remote_group_id="g")
    assert rule(remote_group_id="g").remote_group_id == "g"


# --- duplicates and templates -----------------------------------------------------------------


def test_rule_key_equivalences():
    base = rule(protocol="tcp", port_range_min=22, port_range_max=22)
    assert rule_key(base, "g") == rule_key(rule(protocol="6", port_range_min=22, port_range_max=22), "g")
    with_any = rule(protocol="tcp", port_range_min=22, port_range_max=22, remote_ip_prefix="0.0.0.0/0")
    assert rule_key(base, "g") == rule_key(with_any, "g")
    assert rule_key(base, "g") != rule_key(base, "h")
    assert rule_key(rule(remote_ip_prefix="10.0.0.5/24"), "g") == rule_key(rule(remote_ip_prefix="10.0.0.0/24"), "g")
    assert rule_key(rule(remote_ip_prefix="10.0.0.0/24"), "g") != rule_key(rule(remote_ip_prefix="10.0.0.0/25"), "g")
    v6 = rule(ethertype="IPv6", protocol="ipv6-icmp")
    assert rule_key(v6, "g") == rule_key(rule(ethertype="IPv6", protocol="58"), "g")
    assert rule_key(rule(direction="egress"), "g") != rule_key(rule(), "g")


def test_initial_rules():
    default = initial_rules("g", default_group=True)
    assert len(default) == 4
    assert {(r.direction, r.ethertype, r.remote_group_id) for r in default} == {
        ("egress", "IPv4", None), ("egress", "IPv6", None), ("ingress", "IPv4", "g"), ("ingress", "IPv6", "g"),
    }
    assert {(r.direction, r.ethertype) for r in initial_rules("g", default_group=False)} == {
        ("egress", "IPv4"), ("egress", "IPv6"),
    }


# --- allowed address pairs --------------------------------------------------------------------

MAC = "fa:16:3e:00:00:01"


def pairs(value, max_pairs=10):  # type: ignore[no-untyped-def]
    return address_pairs.normalise(value, max_pairs=max_pairs, port_mac=MAC)


def test_pairs_default_mac_and_canonical_ips():
    out = pairs([{"ip_address": "10.0.0.50"}, {"ip_address": "2001:DB8::5", "mac_address": "FA-16-3E-00-00-09"},
                 {"ip_address": "192.168.0.0/24"}])
    assert [p.as_dict() for p in out] == [
        {"ip_address": "10.0.0.50", "mac_address": MAC},
        {"ip_address": "192.168.0.0/24", "mac_address": MAC},
        {"ip_address": "2001:db8::5", "mac_address": "fa:16:3e:00:00:09"},
    ]
    assert pairs(None) == [] and pairs([]) == []


def test_pairs_errors():
    with pytest.raises(errors.AllowedAddressPairsMissingIP):
        pairs([{"mac_address": MAC}])
    with pytest.raises(errors.DuplicateAddressPairInRequest):
        pairs([{"ip_address": "10.0.0.5"}, {"ip_address": "10.0.0.5"}])
    with pytest.raises(errors.DuplicateAddressPairInRequest):  # same once the port's MAC is filled in
        pairs([{"ip_address": "10.0.0.5"}, {"ip_address": "10.0.0.5", "mac_address": MAC}])
    with pytest.raises(errors.AllowedAddressPairExhausted) as exc:
        pairs([{"ip_address": f"10.0.0.{i}"} for i in range(3)], max_pairs=2)
    assert exc.value.status == 400
    for bad in ([{"ip_address": "x"}], [{"ip_address": "10.0.0.0/33"}], [{"ip_address": "10.0.0.1", "mac_address": "zz"}],
                [{"ip_address": "10.0.0.1", "bogus": 1}], "10.0.0.1", ["10.0.0.1"], [{"ip_address": "10.1/8"}],
                [{"ip_address": "10.0.0.1", "mac_address": "00:00:00:00:00:00"}]):
        with pytest.raises(errors.HTTPBadRequest):
            pairs(bad)


# --- extra DHCP options -----------------------------------------------------------------------


def test_dhcp_opts_parse():
    opts = dhcp_opts.parse([{"opt_name": "bootfile-name", "opt_value": "pxelinux.0"},
                            {"opt_name": "dns-server", "opt_value": "2001:db8::1", "ip_version": "6"}])
    assert [(o.opt_name, o.opt_value, o.ip_version) for o in opts] == [
        ("bootfile-name", "pxelinux.0", 4), ("dns-server", "2001:db8::1", 6)
    ]
    assert dhcp_opts.parse(None) == []
    assert dhcp_opts.parse([{"opt_name": "router", "opt_value": ""}])[0].opt_value == ""


@pytest.mark.parametrize(
    "bad",
    [
        "x",
        [{"opt_name": "a"}],
        [{"opt_value": "a"}],
        [{"opt_name": "", "opt_value": "a"}],
        [{"opt_name": "a" * 65, "opt_value": "a"}],
        [{"opt_name": "a", "opt_value": "v" * 256}],
        [{"opt_name": "a", "opt_value": ""}],
        [{"opt_name": "a", "opt_value": "b", "ip_version": 5}],
        [{"opt_name": "a", "opt_value": "b", "extra": 1}],
        [{"opt_name": "a", "opt_value": "b"}, {"opt_name": "a", "opt_value": "c"}],
        ["a"],
    ],
)
def test_dhcp_opts_invalid(bad):
    with pytest.raises(errors.ExtraDhcpOptBadData) as exc:
        dhcp_opts.parse(bad)
    assert exc.value.status == 400


def test_dhcp_opts_merge():
    current = {("a", 4): "1", ("b", 4): "2", ("a", 6): "3"}
    updates = dhcp_opts.parse([{"opt_name": "a", "opt_value": None}, {"opt_name": "b", "opt_value": "20"},
                               {"opt_name": "c", "opt_value": "30"}])
    assert dhcp_opts.merge(current, updates) == {("b", 4): "20", ("a", 6): "3", ("c", 4): "30"}
    assert dhcp_opts.merge({}, dhcp_opts.parse([{"opt_name": "x", "opt_value": None}])) == {}
    assert dhcp_opts.merge(current, []) == current
