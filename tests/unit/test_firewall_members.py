"""The conntrack entries a remote group's lost member no longer allows (``agent/firewall/members.py``)."""

from __future__ import annotations

import ipaddress

import pytest

from neutrino.agent.firewall import conntrack, members
from neutrino.contract.desired import RemoteGroup
from neutrino.dataplane.fake import FakeConntrack, FakeNetlink, FakeNftables
from neutrino.agent.firewall.applier import FirewallApplier
from neutrino.agent.firewall.state_marks import CUT
from neutrino.agent.firewall.sysctls import REQUIRED
from neutrino.dataplane.host import HostContext
from tests.unit.test_firewall_rules import IP, port, rule

pytestmark = pytest.mark.unit

ZONE = str(conntrack.zones(["net"])["net"])
SSH_FROM_G = rule("ingress", protocol="tcp", low=22, high=22, remote_group="g")
TO_G = rule("egress", remote_group="g")


def g(*ipv4: str, ipv6: tuple[str, ...] = ()) -> RemoteGroup:
    return RemoteGroup("g", ipv4, ipv6)


def test_removed_members_are_what_a_group_no_longer_matches() -> None:
    before = (g("10.0.0.5", "10.0.0.6", ipv6=("2001:db8::5",)),)
    assert members.removed_members(before, (g("10.0.0.6", "10.0.0.7"),)) == {
        ("g", 4): [ipaddress.ip_network("10.0.0.5/32")], ("g", 6): [ipaddress.ip_network("2001:db8::5/128")]}
    assert members.removed_members(before, ()) == {  # the group is gone: every member went
        ("g", 4): [ipaddress.ip_network("10.0.0.5/32"), ipaddress.ip_network("10.0.0.6/32")],
        ("g", 6): [ipaddress.ip_network("2001:db8::5/128")]}
    assert members.removed_members(before, before) == {}  # the same objects
    assert members.removed_members(before, (g("10.0.0.5", "10.0.0.6", "10.0.0.7", ipv6=("2001:db8::5",)),)) == {}
    # an address still inside the group's remaining prefix is still matched
    assert members.removed_members((g("10.0.0.5", "10.0.0.0/24"),), (g("10.0.0.0/24"),)) == {}


def test_filters_follow_the_direction_protocol_and_port_of_each_rule_naming_the_group() -> None:
    p = port(SSH_FROM_G, TO_G, rule("egress", "IPv6", remote_group="g"), ips=(IP, "2001:db8::10"))
    removed = members.removed_members((g("10.0.0.5", ipv6=("2001:db8::5",)),), (g(),))
    assert members.removed_member_filters([p], removed, (g(),)) == [
        ["-w", ZONE, "-f", "ipv4", "-d", IP, "-s", "10.0.0.5", "-p", "tcp", "--dport", "22"],
        ["-w", ZONE, "-f", "ipv4", "-s", IP, "-d", "10.0.0.5"],
        ["-w", ZONE, "-f", "ipv6", "-s", "2001:db8::10", "-d", "2001:db8::5"],
    ]
    other = port(rule("ingress", remote_group="h"), rule("egress"))  # names another group: nothing
    assert members.removed_member_filters([other], removed, (g(),)) == []
    unfiltered = port(SSH_FROM_G, security=False)
    assert members.removed_member_filters([unfiltered], removed, (g(),)) == []
    assert members.removed_member_filters([p], {}, (g(),)) == []


def test_a_prefix_member_and_address_pairs_use_masks_and_all_own_addresses() -> None:
    p = port(SSH_FROM_G, pairs=(("10.0.0.50", "fa:16:3e:00:00:50"), ("10.0.1.0/28", "fa:16:3e:00:00:51")))
    removed = members.removed_members((g("192.168.0.0/24"),), (g(),))
    assert members.removed_member_filters([p], removed, (g(),)) == [
        ["-w", ZONE, "-f", "ipv4", "-d", own, *mask, "-s", "192.168.0.0", "--mask-src", "255.255.255.0", "-p", "tcp",
         "--dport", "22"]
        for own, mask in ((IP, []), ("10.0.0.50", []), ("10.0.1.0", ["--mask-dst", "255.255.255.240"]))]  # fmt: skip


def test_an_address_another_rule_still_allows_for_the_same_traffic_is_kept() -> None:
    removed = members.removed_members((g("10.0.0.5"),), (g(),))
    for still in (rule("ingress", protocol="tcp", low=1, high=1024, prefixes=("10.0.0.0/24",)),
                  rule("ingress", prefixes=("10.0.0.5/32",)),
                  rule("ingress"),  # any remote, any protocol
                  rule("ingress", protocol="tcp", remote_group="h")):  # fmt: skip
        groups = (g(), RemoteGroup("h", ("10.0.0.5",), ()))
        assert members.removed_member_filters([port(SSH_FROM_G, still)], removed, groups) == [], still
    for not_enough in (rule("ingress", protocol="udp", prefixes=("10.0.0.0/24",)),
                       rule("ingress", protocol="tcp", low=80, high=80),
                       rule("egress", prefixes=("10.0.0.5/32",)),
                       rule("ingress", protocol="tcp", prefixes=("10.0.1.0/24",))):  # fmt: skip
        assert len(members.removed_member_filters([port(SSH_FROM_G, not_enough)], removed, (g(),))) == 1, not_enough


def test_the_applier_flushes_a_removed_member_and_not_an_added_one() -> None:
    """Also on the members-only path (the same port objects, only the sets rendered again)."""
    netlink = FakeNetlink()
    netlink._ns(None).sysctls.update(REQUIRED)
    nft, ct = FakeNftables(netlink), FakeConntrack()
    fw = FirewallApplier(HostContext(name="h"), nft, netlink, ct)
    ports = [port(SSH_FROM_G, rule("egress"))]
    assert fw(ports, (g("10.0.0.5"),)) is True and ct.marked == []
    assert fw(ports, (g("10.0.0.5", "10.0.0.6"),)) is True and ct.marked == []  # added: nothing
    assert fw(ports, (g("10.0.0.5", "10.0.0.6"),)) is False and ct.marked == []  # equal, new objects
    assert fw(ports, (g("10.0.0.6"),)) is True
    assert ct.marked == [(None, ("-w", ZONE, "-f", "ipv4", "-d", IP, "-s", "10.0.0.5", "-p", "tcp", "--dport", "22"), CUT)]  # marked cut, not deleted
    assert fw(ports, ()) is True  # the last member's port deleted: the group is gone
    assert ct.marked[-1] == (None, ("-w", ZONE, "-f", "ipv4", "-d", IP, "-s", "10.0.0.6", "-p", "tcp", "--dport", "22"), CUT)
    assert len(ct.marked) == 2


def test_an_address_group_losing_a_cidr_flushes_by_prefix() -> None:
    from neutrino.contract.desired import SecurityRule

    by_address_group = SecurityRule("sg-1", "ingress", "IPv4", "udp", 53, 53, (), None, "ag")
    removed = members.removed_members((RemoteGroup("ag", ("10.9.0.0/16", "10.8.0.0/16"), ()),),
                                      (RemoteGroup("ag", ("10.8.0.0/16",), ()),))  # fmt: skip
    assert members.removed_member_filters([port(by_address_group)], removed, ()) == [
        ["-w", ZONE, "-f", "ipv4", "-d", IP, "-s", "10.9.0.0", "--mask-src", "255.255.0.0", "-p", "udp", "--dport", "53"]]
