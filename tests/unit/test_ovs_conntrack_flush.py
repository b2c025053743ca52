"""Which OVS conntrack entries a removed rule no longer allows (agent/l2/ovs_conntrack_flush.py)."""

from __future__ import annotations

import pytest

from neutrino.agent.l2 import ovs_conntrack_flush as ctf
from neutrino.agent.l2.ovs_firewall_flows import FwPort
from neutrino.contract.desired import RemoteGroup
from tests.unit.test_firewall_rules import port, rule

pytestmark = pytest.mark.unit

DUMP = """\
tcp,orig=(src=10.0.0.5,dst=10.0.0.10,sport=41234,dport=8080),reply=(src=10.0.0.10,dst=10.0.0.5,sport=8080,dport=41234),zone=3,protoinfo=(state=ESTABLISHED)
tcp,orig=(src=10.0.0.5,dst=10.0.0.10,sport=41236,dport=22),reply=(src=10.0.0.10,dst=10.0.0.5,sport=22,dport=41236),zone=3,protoinfo=(state=ESTABLISHED)
icmp,orig=(src=10.0.0.5,dst=10.0.0.10,id=77,type=8,code=0),reply=(src=10.0.0.10,dst=10.0.0.5,id=77,type=0,code=0),zone=3
udp,orig=(src=10.0.0.10,dst=192.0.2.1,sport=5353,dport=53),reply=(src=192.0.2.1,dst=10.0.0.10,sport=53,dport=5353),zone=3
tcp,orig=(src=2001:db8::5,dst=2001:db8::10,sport=1000,dport=80),reply=(src=2001:db8::10,dst=2001:db8::5,sport=80,dport=1000),zone=3
"""


def test_parse_origin_tuples() -> None:
    entries = ctf.parse(DUMP + "garbage line\n")
    assert len(entries) == 5
    assert entries[0] == ctf.CtEntry(6, "10.0.0.5", "10.0.0.10", 41234, 8080)
    assert entries[0].tuple_spec() == "ct_nw_src=10.0.0.5,ct_nw_dst=10.0.0.10,ct_nw_proto=6,ct_tp_src=41234,ct_tp_dst=8080"
    assert entries[2].tuple_spec() == "ct_nw_src=10.0.0.5,ct_nw_dst=10.0.0.10,ct_nw_proto=1,icmp_id=77,icmp_type=8,icmp_code=0"
    assert entries[4].tuple_spec().startswith("ct_ipv6_src=2001:db8::5,ct_ipv6_dst=2001:db8::10,ct_nw_proto=6")


def test_only_what_the_ports_no_longer_accept_is_flushed() -> None:
    entries = ctf.parse(DUMP)
    # the port (10.0.0.10) keeps ssh from its group's members and ping, lost 8080 and its egress
    p = port(rule("ingress", protocol="tcp", low=22, high=22, remote_group="sg-2"), rule("ingress", protocol="icmp", low=8),
             ips=("10.0.0.10", "2001:db8::10"))  # fmt: skip
    members = (RemoteGroup("sg-2", ("10.0.0.5",), ()),)
    flushed = ctf.to_flush(entries, [FwPort("tapa", 3, p)], members)
    assert [(e.proto, e.dport) for e in flushed] == [(6, 8080), (17, 53), (6, 80)]
    # everything allowed: nothing flushed; an unfiltered port's entries are never touched
    open_ = port(rule("ingress"), rule("egress"), rule("ingress", "IPv6"), ips=("10.0.0.10", "2001:db8::10"))
    assert ctf.to_flush(entries, [FwPort("tapa", 3, open_)]) == []
    assert ctf.to_flush(entries, [FwPort("tapa", 3, port(security=False))]) == []


def test_rule_signature_tells_which_zone_lost_a_rule() -> None:
    before = ctf.rule_signature([FwPort("tapa", 3, port(rule("ingress", protocol="tcp", low=22, high=22)))], ())
    after = ctf.rule_signature([FwPort("tapa", 3, port())], ())
    assert before[3] - after.get(3, frozenset())


def test_rule_signature_of_remote_groups_is_linear_and_sees_a_member_leave() -> None:
    from neutrino.contract.desired import RemoteGroup

    ssh = rule("ingress", protocol="tcp", low=22, high=22, remote_group="sg-1")
    ports = [FwPort(f"tap{i}", 3, port(ssh, pid=f"port-{i}", ips=(f"10.0.0.{2 * i + 1}",))) for i in range(20)]
    everyone = RemoteGroup("sg-1", tuple(f"10.0.0.{2 * i + 1}" for i in range(20)), ())
    before = ctf.rule_signature(ports, [everyone])
    assert len(before[3]) == 20 + 20  # a string per port's rule and per member, not 20 * 20
    fewer = ctf.rule_signature(ports, [RemoteGroup("sg-1", everyone.ipv4[1:], ())])
    assert before[3] - fewer[3] == {"sg-1 v4 10.0.0.1"}
    assert not fewer[3] - before[3]  # nothing else changed: a member joining needs no flush
    # no member of the family: the rule allows nothing, so it is no string either
    assert ctf.rule_signature(ports, [RemoteGroup("sg-1", (), ("2001:db8::1",))]) == {3: frozenset()}
