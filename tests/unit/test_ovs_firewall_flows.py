"""The native OVS firewall's flows (agent/l2/ovs_firewall_flows.py): golden checks per rule kind,
anti-spoofing, DHCP, IPv6, unfiltered ports and port ranges, without root."""

from __future__ import annotations

import dataclasses

import pytest

from neutrino.agent.l2 import ovs_firewall_conjunctions as fwc
from neutrino.agent.l2 import ovs_firewall_flows as fwf
from neutrino.contract.desired import RemoteGroup
from tests.unit.test_firewall_rules import MAC, port, rule

pytestmark = pytest.mark.unit

TAP = "tapa1b2c3d4-00"
Z = 3


def flows(*ports, groups=()):  # type: ignore[no-untyped-def]
    return fwf.flows([fwf.FwPort(TAP if i == 0 else f"tap{i}", Z, p) for i, p in enumerate(ports)], groups)


def lines(found) -> set[str]:  # type: ignore[no-untyped-def]
    return {f"{f.table}/{f.priority} {f.match} -> {f.actions}" for f in found}


def test_port_masks_cover_ranges_with_fewest_matches() -> None:
    assert fwf.port_masks(22, 22) == ["22"]
    assert fwf.port_masks(1, 65535) == ["1", "0x2/0xfffe", "0x4/0xfffc", "0x8/0xfff8", "0x10/0xfff0", "0x20/0xffe0",
                                        "0x40/0xffc0", "0x80/0xff80", "0x100/0xff00", "0x200/0xfe00", "0x400/0xfc00",
                                        "0x800/0xf800", "0x1000/0xf000", "0x2000/0xe000", "0x4000/0xc000", "0x8000/0x8000"]  # fmt: skip
    assert fwf.port_masks(1000, 1999) == ["0x3e8/0xfff8", "0x3f0/0xfff0", "0x400/0xfe00", "0x600/0xff00",
                                          "0x700/0xff80", "0x780/0xffc0", "0x7c0/0xfff0"]  # fmt: skip
    for low, high in ((1000, 1999), (5, 70), (0, 0), (65535, 65535)):
        covered = set()
        for m in fwf.port_masks(low, high):
            value, _, mask = m.partition("/")
            v, k = int(value, 0), int(mask, 0) if mask else 0xFFFF
            covered |= {p for p in range(65536) if p & k == v}
        assert covered == set(range(low, high + 1))


def test_no_filtered_port_no_flows_and_unfiltered_ports_skip_to_accept() -> None:
    assert flows(port(security=False)) == []
    got = lines(flows(port(rule("ingress")), port(security=False, pid="b" * 10 + "-x", mac="fa:16:3e:00:00:0b")))
    assert f"0/100 in_port=tap1 -> load:{Z}->NXM_NX_REG6[],resubmit(,73)" in got
    assert f"0/100 in_port={TAP} -> load:{Z}->NXM_NX_REG6[],resubmit(,71)" in got
    assert not any(" in_port=tap1," in line for line in got)


def test_anti_spoofing_macs_ips_arp_and_allowed_address_pairs() -> None:
    got = lines(flows(port(pairs=(("10.0.0.64/26", "fa:16:3e:99:99:99"), ("10.0.0.20", "")))))
    track = "ct(table=72,zone=NXM_NX_REG6[0..15])"
    assert f"71/65 in_port={TAP},dl_src={MAC},ip,nw_src=10.0.0.10 -> {track}" in got
    assert f"71/65 in_port={TAP},dl_src={MAC},ip,nw_src=10.0.0.20 -> {track}" in got
    assert f"71/65 in_port={TAP},dl_src=fa:16:3e:99:99:99,ip,nw_src=10.0.0.64/26 -> {track}" in got
    assert f"71/95 in_port={TAP},dl_src={MAC},arp,arp_sha={MAC},arp_spa=10.0.0.10 -> resubmit(,73)" in got
    assert f"71/95 in_port={TAP},dl_src={MAC},arp,arp_sha={MAC},arp_spa=0.0.0.0 -> resubmit(,73)" in got
    assert "71/0  -> drop" in got  # anything else from the port: dropped
    # the server side of DHCP and router advertisements never leave a port
    assert f"71/70 in_port={TAP},udp,tp_src=67 -> drop" in got and f"71/70 in_port={TAP},icmp6,icmp_type=134 -> drop" in got
    # both MACs are the port's on ingress
    for mac in (MAC, "fa:16:3e:99:99:99"):
        assert f"73/100 reg6={Z},dl_dst={mac} -> resubmit(,81)" in got
        assert f"60/100 dl_vlan={Z},dl_dst={mac} -> pop_vlan,load:{Z}->NXM_NX_REG6[],resubmit(,81)" in got


def test_ipv6_sources_include_link_local_and_nd() -> None:
    got = lines(flows(port(ips=("2001:db8::10",))))
    assert f"71/65 in_port={TAP},dl_src={MAC},ipv6,ipv6_src=2001:db8::10 -> ct(table=72,zone=NXM_NX_REG6[0..15])" in got
    assert f"71/65 in_port={TAP},dl_src={MAC},ipv6,ipv6_src=fe80::f816:3eff:fe00:a -> ct(table=72,zone=NXM_NX_REG6[0..15])" in got
    assert f"71/95 in_port={TAP},dl_src={MAC},icmp6,ipv6_src=::,icmp_type=135 -> resubmit(,73)" in got
    assert not any("arp_spa" in line for line in got)  # no IPv4 address: no ARP


def test_dhcp_replies_only_from_the_networks_dhcp_ports() -> None:
    p = dataclasses.replace(port(), dhcp_servers=(("10.0.0.2", "fa:16:3e:dd:00:02"),))
    got = lines(flows(p))
    dest = f"reg6={Z},dl_dst={MAC}"
    assert f"81/95 {dest},udp,dl_src=fa:16:3e:dd:00:02,nw_src=10.0.0.2,tp_src=67,tp_dst=68 -> output:{TAP}" in got
    assert f"81/94 {dest},udp,tp_src=67,tp_dst=68 -> drop" in got
    assert f"71/95 in_port={TAP},dl_src={MAC},udp,nw_src=0.0.0.0,nw_dst=255.255.255.255,tp_src=68,tp_dst=67 -> resubmit(,73)" in got


def test_rules_stateful_protocols_ports_icmp_prefixes_and_remote_groups() -> None:
    p = port(rule("ingress", protocol="tcp", low=22, high=22, prefixes=("192.0.2.0/24",)),
             rule("ingress", protocol="udp", low=5000, high=5001),
             rule("ingress", protocol="icmp", low=8, high=0),
             rule("ingress", "IPv6", protocol="icmp", low=128),
             rule("ingress", protocol="112"),
             rule("egress"), rule("egress", "IPv6"),
             rule("ingress", remote_group="sg-2"), rule("ingress", "IPv6", remote_group="sg-2"))  # fmt: skip
    members = (RemoteGroup("sg-2", ("10.0.0.11", "10.0.0.12"), ()),)
    got = lines(flows(p, groups=members))
    dest, new = f"reg6={Z},dl_dst={MAC}", "ct_state=-rpl-inv+trk"
    commit = "resubmit(,92)"
    expected = [
        f"82/70 {dest},{new},tcp,nw_src=192.0.2.0/24,tp_dst=22 -> {commit}",
        f"82/70 {dest},{new},udp,tp_dst=0x1388/0xfffe -> {commit}",
        f"82/70 {dest},{new},icmp,icmp_type=8,icmp_code=0 -> {commit}",
        f"82/70 {dest},{new},icmp6,icmp_type=128 -> {commit}",
        f"82/70 {dest},{new},ip,nw_proto=112 -> {commit}",
        f"72/70 in_port={TAP},{new},ip -> resubmit(,91)",
        f"72/70 in_port={TAP},{new},ipv6 -> resubmit(,91)",
        f"82/90 {dest},ct_state=-new+est-rel+rpl-inv+trk -> output:{TAP}",
        f"82/90 {dest},ct_state=-new+rel-inv+trk -> output:{TAP}",
        "82/100 ct_state=+inv+trk -> drop", "82/0  -> drop", "72/0  -> drop",
        # a new connection is committed once a rule allowed it; an established one is judged again
        f"92/100 {dest},ct_state=+new+trk,ip -> ct(commit,zone=NXM_NX_REG6[0..15]),output:{TAP}",
        f"92/100 {dest},ct_state=+new+trk,ipv6 -> ct(commit,zone=NXM_NX_REG6[0..15]),output:{TAP}",
        f"92/90 {dest} -> output:{TAP}", "92/0  -> drop",
        "91/100 ct_state=+new+trk,ip -> ct(commit,zone=NXM_NX_REG6[0..15]),resubmit(,73)", "91/0  -> resubmit(,73)",
        # an established packet no rule allows any more marks its connection cut, both ways
        "82/50 ct_state=+est-rel-rpl-inv+trk,ipv6 -> ct(commit,zone=NXM_NX_REG6[0..15],exec(load:0x1->NXM_NX_CT_MARK[]))",
        "72/50 ct_state=+est-rel-rpl-inv+trk,ip -> ct(commit,zone=NXM_NX_REG6[0..15],exec(load:0x1->NXM_NX_CT_MARK[]))",
        "82/100 ct_state=+trk,ct_mark=0x1 -> drop", "72/100 ct_state=+trk,ct_mark=0x1 -> drop",
        "72/90 ct_state=-new+est-rel+rpl-inv+trk -> resubmit(,73)",
    ]  # fmt: skip
    assert [e for e in expected if e not in got] == []
    # the remote group is a conjunction at 71: the port's side, the members, the conj_id flow
    conj = fwc.conj_ids([f"82 {p.port_id} sg-2 4"])[f"82 {p.port_id} sg-2 4"]
    assert {line for line in got if line.startswith("82/71")} == {
        f"82/71 {dest},{new},ip -> conjunction({conj},1/2)",
        f"82/71 ip,nw_src=10.0.0.11 -> conjunction({conj},2/2)",
        f"82/71 ip,nw_src=10.0.0.12 -> conjunction({conj},2/2)",
        f"82/71 conj_id={conj},ip -> {commit}",
    }
    assert not any("nw_src=10.0.0.1" in line for line in got if line.startswith("82/70"))
    # the IPv6 remote-group rule has no IPv6 member: it matches nothing
    assert not any("ipv6" in line for line in got if line.startswith("82/71"))


def test_zones_keep_two_networks_apart() -> None:
    a = fwf.FwPort("tapa", 3, port())
    b = fwf.FwPort("tapb", 4, port(pid="b" * 10 + "-x"))  # same MAC and address, another network
    got = lines(fwf.flows([a, b]))
    assert "73/100 reg6=3,dl_dst=fa:16:3e:00:00:0a -> resubmit(,81)" in got
    assert "73/100 reg6=4,dl_dst=fa:16:3e:00:00:0a -> resubmit(,81)" in got
    assert "81/100 reg6=4,dl_dst=fa:16:3e:00:00:0a,arp -> output:tapb" in got


# --- remote groups as conjunctions ---------------------------------------------------------------

GROUP = "sg-self"


def member_port(i: int, *rules_):  # type: ignore[no-untyped-def]
    return port(*rules_, pid=f"port-{i:04d}", mac=f"fa:16:3e:00:01:{i:02x}", ips=(f"10.0.1.{2 * i + 1}",), groups=(GROUP,))


def self_group(n: int, extra: int = 0) -> tuple[list[fwf.FwPort], list[RemoteGroup]]:
    """n ports on one host in a group whose rule allows TCP 22 in from its own members, plus
    ``extra`` members elsewhere; as Neutron's default group's rule, remote group = self. Odd
    addresses: no two merge into one CIDR."""
    ssh = rule("ingress", protocol="tcp", low=22, high=22, remote_group=GROUP)
    ports = [fwf.FwPort(f"tap{i}", Z, member_port(i, ssh)) for i in range(n)]
    members = tuple(f"10.0.1.{2 * i + 1}" for i in range(n)) + tuple(f"10.0.2.{2 * i + 1}" for i in range(extra))
    return ports, [RemoteGroup(GROUP, members, ())]


def rule_flows(found, table: int = fwf.RULES_INGRESS) -> list:  # type: ignore[no-untyped-def]
    return [f for f in found if f.table == table and f.priority in (fwf.RULE_PRIORITY, fwc.CONJ_PRIORITY)]


def test_a_self_referencing_group_costs_linear_flows() -> None:
    for n in (1, 5, 20):
        ports, groups = self_group(n)
        # before (one flow per port and member): n * n; now n port sides, n members, n conj_id flows
        assert len(rule_flows(fwf.flows(ports, groups))) == 3 * n
        assert sum(len(fwf.rule_matches(p.port, "ingress", {GROUP: groups[0]})) for p in ports) == n * n
    ports, groups = self_group(20, extra=30)  # M = 50 members, 20 of them here
    assert len(rule_flows(fwf.flows(ports, groups))) == 20 + 50 + 20


def test_member_flows_are_shared_and_their_actions_merged() -> None:
    ports, groups = self_group(3)
    found = fwf.flows(ports, groups)
    ids = fwc.conj_ids(f"82 {p.port.port_id} {GROUP} 4" for p in ports)
    members = [f for f in found if f.table == 82 and f.match.startswith("ip,nw_src=")]
    assert [f.match for f in members] == ["ip,nw_src=10.0.1.1", "ip,nw_src=10.0.1.3", "ip,nw_src=10.0.1.5"]
    want = ",".join(f"conjunction({n},2/2)" for n in sorted(ids.values()))
    assert {f.actions for f in members} == {want}
    assert len({f.key() for f in found}) == len(found)  # one flow per key: openflow.index accepts it
    # two groups' rules of one port with the same service share its port-side flow as well
    ssh = rule("ingress", protocol="tcp", low=22, high=22, remote_group="sg-a")
    ssh_b = rule("ingress", protocol="tcp", low=22, high=22, remote_group="sg-b")
    got = lines(flows(port(ssh, ssh_b), groups=(RemoteGroup("sg-a", ("10.0.0.5",), ()), RemoteGroup("sg-b", ("10.0.0.5", "10.0.0.6"), ()))))
    a, b = (fwc.conj_ids([f"82 {port().port_id} sg-a 4", f"82 {port().port_id} sg-b 4"])[f"82 {port().port_id} {g} 4"] for g in ("sg-a", "sg-b"))
    both = ",".join(f"conjunction({n},{{k}}/2)" for n in sorted((a, b)))
    assert f"82/71 reg6={Z},dl_dst={MAC},ct_state=-rpl-inv+trk,tcp,tp_dst=22 -> {both.format(k=1)}" in got
    assert f"82/71 ip,nw_src=10.0.0.5 -> {both.format(k=2)}" in got
    assert f"82/71 ip,nw_src=10.0.0.6 -> conjunction({b},2/2)" in got


def test_conjunction_per_port_group_family_and_egress_uses_the_destination() -> None:
    p = port(rule("egress", protocol="tcp", low=1000, high=1999, remote_group="sg-2"),
             rule("egress", protocol="udp", low=53, high=53, remote_group="sg-2"),
             rule("egress", "IPv6", protocol="tcp", low=443, high=443, remote_group="sg-2"),
             ips=("10.0.0.10", "2001:db8::10"))  # fmt: skip
    got = lines(flows(p, groups=(RemoteGroup("sg-2", ("10.0.0.11",), ("2001:db8::11",)),)))
    ids = fwc.conj_ids([f"72 {p.port_id} sg-2 4", f"72 {p.port_id} sg-2 6"])
    four, six = ids[f"72 {p.port_id} sg-2 4"], ids[f"72 {p.port_id} sg-2 6"]
    at = f"in_port={TAP},ct_state=-rpl-inv+trk"
    assert f"72/71 ip,nw_dst=10.0.0.11 -> conjunction({four},2/2)" in got
    assert f"72/71 ipv6,ipv6_dst=2001:db8::11 -> conjunction({six},2/2)" in got
    assert f"72/71 {at},udp,tp_dst=53 -> conjunction({four},1/2)" in got  # both rules: one conjunction
    assert f"72/71 {at},tcp6,tp_dst=443 -> conjunction({six},1/2)" in got
    assert len([line for line in got if line.startswith(f"72/71 {at},tcp,tp_dst=")]) == 7  # one per port mask
    assert f"72/71 conj_id={four},ip -> resubmit(,91)" in got
    assert f"72/71 conj_id={six},ipv6 -> resubmit(,91)" in got


def test_a_group_with_one_member_is_a_conjunction_and_without_members_nothing() -> None:
    ports, groups = self_group(1)
    assert any(f.match.startswith("conj_id=") for f in fwf.flows(ports, groups))
    assert rule_flows(fwf.flows(ports, [RemoteGroup(GROUP, (), ("2001:db8::1",))])) == []
    assert rule_flows(fwf.flows(ports, [])) == []


def test_an_address_group_of_every_address_is_a_plain_rule() -> None:
    p = port(rule("ingress", protocol="tcp", low=22, high=22, remote_group="ag-all"))
    got = lines(flows(p, groups=(RemoteGroup("ag-all", ("10.0.0.0/8", "0.0.0.0/0"), ()),)))
    assert f"82/70 reg6={Z},dl_dst={MAC},ct_state=-rpl-inv+trk,tcp,tp_dst=22 -> resubmit(,92)" in got
    assert not any(line.startswith("82/71") for line in got)


def test_conjunction_ids_are_stable() -> None:
    ports, groups = self_group(6)
    first = fwf.flows(ports, groups)
    assert fwf.flows(list(reversed(ports)), groups) == first  # input order
    # an unrelated port added: every flow of the others stays as it was (the agent writes only its own)
    other = fwf.FwPort("tapx", Z, port(rule("ingress", protocol="tcp", low=22, high=22, remote_group="sg-other"),
                                       pid="zz-other", mac="fa:16:3e:00:02:01", ips=("10.0.3.1",)))
    more = fwf.flows([*ports, other], [*groups, RemoteGroup("sg-other", ("10.0.3.9",), ())])
    assert set(first) <= set(more)
    # a port leaving the group (its rule and its address go): its own flows and its member flow
    # go, and its id leaves the shared member flows' actions (rewritten, the same keys)
    fewer = fwf.flows(ports[:5], [RemoteGroup(GROUP, groups[0].ipv4[:5], ())])
    gone = {f for f in first if f not in fewer}
    left = {f.key() for f in fewer}
    ids = fwc.conj_ids(f"82 {p.port.port_id} {GROUP} 4" for p in ports)
    assert {f.match for f in gone if f.key() not in left} == {
        "in_port=tap5", f"reg6={Z},dl_dst=fa:16:3e:00:01:05", "ip,nw_src=10.0.1.11",
        f"conj_id={ids[f'82 {ports[5].port.port_id} {GROUP} 4']},ip",
        *(f.match for f in first if "tap5" in f.match + f.actions or "fa:16:3e:00:01:05" in f.match)}
    assert {f.match for f in gone if f.key() in left} == {f"ip,nw_src=10.0.1.{2 * i + 1}" for i in range(5)}
    # only an address leaving the group (port 5 stays, its own rule too)
    only = fwf.flows(ports, [RemoteGroup(GROUP, groups[0].ipv4[:5], ())])
    assert {f for f in first if f not in only} == {f for f in first if f.match == "ip,nw_src=10.0.1.11"}
    assert set(only) < set(first)


def test_conj_ids_unique_32_bit_and_probe_on_collision(monkeypatch: pytest.MonkeyPatch) -> None:
    ids = fwc.conj_ids(f"82 port-{i} sg 4" for i in range(1000))
    assert len(set(ids.values())) == 1000 and all(0 < n < 2**32 for n in ids.values())
    monkeypatch.setattr(fwc.zlib, "crc32", lambda _b: 0xFFFF_FFFF)
    assert fwc.conj_ids(["b", "a", "c"]) == {"a": 0xFFFF_FFFF, "b": 1, "c": 2}  # sorted order, 0 skipped
