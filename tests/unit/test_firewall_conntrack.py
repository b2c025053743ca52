"""Conntrack zones per network and the entries a removed rule no longer allows."""

from __future__ import annotations

import dataclasses

import pytest

from neutrino.agent.firewall import conntrack, rules
from neutrino.contract.desired import BoundPort, FixedIP, SecurityRule, Segment

pytestmark = pytest.mark.unit

NET_A, NET_B = "aaaaaaaa-0000-4000-8000-00000000000a", "bbbbbbbb-0000-4000-8000-00000000000b"
TCP_8080 = SecurityRule("sg", "ingress", "IPv4", "tcp", 8080, 8080, ("0.0.0.0/0",))
ICMP_ONE = SecurityRule("sg", "ingress", "IPv4", "icmp", None, None, ("10.0.0.9/32",))
EGRESS = SecurityRule("sg", "egress", "IPv4", None, None, None, ())


def port(pid: str, net: str, rules=(TCP_8080, ICMP_ONE, EGRESS), owner="compute:nova") -> BoundPort:  # type: ignore[no-untyped-def]
    return BoundPort(pid, net, "fa:16:3e:00:00:01", True, owner, "vm", "bridge", Segment("vxlan", None, 5, 1450),
                     (FixedIP("s", "10.0.0.5", "10.0.0.0/24", None),), True, ("sg",), tuple(rules), (), 1)  # fmt: skip


def test_zones_differ_per_network_and_do_not_depend_on_order_or_others():
    z = conntrack.zones([NET_B, NET_A, NET_A])
    assert z[NET_A] != z[NET_B] and all(1 <= v <= conntrack.MAX_ZONE for v in z.values())
    assert conntrack.zones([NET_A]) == {NET_A: z[NET_A]}


def test_zone_collisions_probe_to_a_free_zone(monkeypatch):
    monkeypatch.setattr(conntrack, "MAX_ZONE", 3)
    z = conntrack.zones([NET_A, NET_B, "c" * 36])
    assert sorted(z.values()) == [1, 2, 3]


def test_ct_table_maps_brq_and_qbr_of_each_network_to_its_zone():
    a, b = port("p1aaaaaaaa-1", NET_A), port("p2bbbbbbbb-2", NET_B)
    body = conntrack.ct_body([a, b])
    z = conntrack.zones([NET_A, NET_B])
    assert f'"brq{NET_A[:11]}" : {z[NET_A]}' in body and f'"qbrp1aaaaaaaa-" : {z[NET_A]}' in body
    assert f'"brq{NET_B[:11]}" : {z[NET_B]}' in body
    assert "priority -300" in body and "ct zone set iifname map @zones" in body
    zone_chain = body.split("chain zone {")[1].split("\n\t}")[0]
    assert zone_chain.index(rules.TUNNEL_IN) < zone_chain.index("ct zone set")  # NOTRACK before a zone
    assert "chain state_mark {" in body  # the state marks stay


def test_a_removed_rule_deletes_what_it_matched_in_the_ports_zone():
    before = port("p1aaaaaaaa-1", NET_A)
    after = dataclasses.replace(before, rules=(EGRESS,))
    zone = str(conntrack.zones([NET_A])[NET_A])
    assert conntrack.removed_rule_filters([before], [after]) == [
        ["-w", zone, "-f", "ipv4", "-d", "10.0.0.5", "-p", "tcp", "--dport", "8080"],
        ["-w", zone, "-f", "ipv4", "-d", "10.0.0.5", "-s", "10.0.0.9", "-p", "icmp"],
    ]
    assert conntrack.removed_rule_filters([before], [before]) == []
    assert conntrack.removed_rule_filters([], [after]) == []  # a new port has nothing to forget
    trusted = dataclasses.replace(after, device_owner="network:dhcp")
    assert conntrack.removed_rule_filters([before], [trusted]) == []


def test_bridges_without_a_filtered_port_are_left_untracked():
    """A network's brq is tracked while one of its ports on the host is filtered; an unfiltered
    port's qbr never is; trusted (network:*) ports do not make a network tracked."""
    filtered = port("p1aaaaaaaa-1", NET_A)
    open_port = dataclasses.replace(port("p2bbbbbbbb-2", NET_B), port_security_enabled=False)
    dhcp = port("p3bbbbbbbb-3", NET_B, owner="network:dhcp")
    untracked = conntrack.untracked_devices([filtered, open_port, dhcp])
    assert untracked == [f"brq{NET_B[:11]}", "qbrp2bbbbbbbb-", "qbrp3bbbbbbbb-"]
    devices = conntrack.zone_devices([filtered, open_port, dhcp])
    assert set(devices) == {f"brq{NET_A[:11]}", "qbrp1aaaaaaaa-"}
    assert devices[f"brq{NET_A[:11]}"] == conntrack.zones([NET_A, NET_B])[NET_A]  # zones over every network
    # a filtered port on the same network makes its brq tracked again; the open port's qbr stays untracked
    both = conntrack.untracked_devices([filtered, open_port, dataclasses.replace(filtered, port_id="p4bbbbbbbb-4", network_id=NET_B)])
    assert both == ["qbrp2bbbbbbbb-"]
    assert conntrack.untracked_devices([]) == []


def test_untracked_bridges_are_notrack_before_the_zone():
    open_port = dataclasses.replace(port("p2bbbbbbbb-2", NET_B), port_security_enabled=False)
    body = conntrack.ct_body([open_port, port("p1aaaaaaaa-1", NET_A)])
    untracked = body.split("set untracked {")[1].split("}")[0]
    assert f'"brq{NET_B[:11]}"' in untracked and '"qbrp2bbbbbbbb-"' in untracked
    zone_chain = body.split("chain zone {")[1].split("\n\t}")[0]
    # a tracked bridge's packet takes one lookup (the zone, then accept); only a miss reaches the set
    assert zone_chain.index(rules.TUNNEL_IN) < zone_chain.index(conntrack.ZONE) < zone_chain.index(conntrack.UNTRACKED)
    assert "set untracked {\n\t\ttype ifname\n\t}" in conntrack.ct_body([port("p1aaaaaaaa-1", NET_A)])  # declared empty


def test_a_host_without_filtered_ports_registers_no_hook():
    """A network node's ports (DHCP, router) are trusted: both tables are empty, so its bridged
    packets meet no base chain and no conntrack pass of ours."""
    trusted = dataclasses.replace(port("p2bbbbbbbb-2", NET_B), device_owner="network:dhcp")
    open_port = dataclasses.replace(port("p3cccccccc-3", NET_A), port_security_enabled=False)
    assert conntrack.ct_body([trusted, open_port]) == "" and rules.render([trusted, open_port]) == ""
    assert conntrack.ct_body([]) == "" and rules.render([]) == ""
    assert "hook" in conntrack.ct_body([port("p1aaaaaaaa-1", NET_A)])
