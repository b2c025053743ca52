"""Security groups as OpenFlow with OVS conntrack (``firewall_driver = openvswitch``), with real TCP.

The agents report ``ovs_hybrid_plug`` False, so every instance's tap sits straight on br-int and
the native firewall's tables (agent/l2/ovs_firewall_flows.py) filter it: rules allow and block,
spoofed MACs and addresses are dropped, a removed rule cuts an established connection, a
remote-group rule (an OpenFlow conjunction) lets the group's members in and no one else, two
projects with the same addresses on one host stay apart (one conntrack zone per network), and
IPv6 gets the same rules, anti-spoofing and cut.
"""

from __future__ import annotations

import threading

import pytest

from neutrino.dataplane import exec as programs
from neutrino.dataplane.openflow import OpenFlow
from neutrino.dataplane.ovs import OvsInstance
from neutrino.lab import probes
from tests.lab.cloud_support import cloud_lab, ip_of, poll, restart_agent_under_a_stream, stream_running, wait_established
from tests.lab.test_security_groups_lab import QUICK, _group, _ping_from, _rule, _tcp, _tcp_from, _until

pytestmark = pytest.mark.root


@pytest.fixture(scope="module")
def cl(lab_root):
    with cloud_lab(lab_root, agent_settings={"firewall_driver": "openvswitch"}) as c:
        yield c


def test_rules_allow_and_block_on_taps_straight_on_br_int(cl):
    net = cl.network("of-sg", "10.64.0.0/24")
    a = cl.vm("oa", net["id"], "compute1")
    b = cl.vm("ob", net["id"], "compute2")
    assert set(a.devices) == {"tap"}
    assert cl.api.request("GET", f"ports/{a.port_id}")["port"]["binding:vif_details"]["ovs_hybrid_plug"] is False
    _until(lambda: _tcp(a, b))  # default group: members reach each other
    assert _tcp(b, a).ok and probes.transfer(a.netns, b.netns, ip_of(b), udp=True, timeout=QUICK).ok
    lonely = _group(cl, "of-lonely")  # egress only
    c = cl.vm("oc", net["id"], "compute1", security_groups=(lonely["id"],))
    _until(lambda: _tcp(a, b))
    assert not _tcp(a, c).ok and not _tcp(b, c).ok  # no ingress rule: a on the same host too
    assert not _tcp(c, a).ok  # not a member of default
    web = _group(cl, "of-web")
    srv = cl.vm("os", net["id"], "compute2", security_groups=(web["id"],))
    rule = _rule(cl, web["id"], direction="ingress", protocol="tcp", port_range_min=8080, port_range_max=8080,
                 remote_ip_prefix="0.0.0.0/0")  # fmt: skip
    _until(lambda: _tcp(c, srv, port=8080))
    assert not _tcp(c, srv, port=8081).ok
    assert not probes.transfer(c.netns, srv.netns, ip_of(srv), port=8080, udp=True, timeout=QUICK).ok
    _rule(cl, web["id"], direction="ingress", protocol="icmp", port_range_min=8, remote_ip_prefix=f"{ip_of(c)}/32")
    _until(lambda: probes.ping(c.netns, ip_of(srv), count=2))  # echo requests from c only
    assert not probes.ping(a.netns, ip_of(srv), count=2).ok
    flows = "\n".join(OpenFlow(cl.lab.host("compute2").context).dump("br-int"))
    assert "table=82" in flows and "tp_dst=8080" in flows and "ct(commit,zone=NXM_NX_REG6[0..15])" in flows
    # a removed rule cuts the established connection (its next packet marks the entry cut)
    _a_removed_rule_cuts_a_stream(cl, c, srv, ip_of(srv), rule["id"])
    assert not _tcp(c, srv, port=8080).ok


def _a_removed_rule_cuts_a_stream(cl, src, srv, dst_ip: str, rule_id: str, port: int = 8080) -> None:  # type: ignore[no-untyped-def]
    """A 15 s TCP stream from ``src`` to ``srv`` at ``dst_ip``:``port`` runs while the rule that
    admits it is deleted and its flow leaves compute2 (``srv``'s host): the stream must break."""
    result: dict[str, object] = {}
    t = threading.Thread(target=lambda: result.setdefault("check", probes.transfer(
        src.netns, srv.netns, dst_ip, port=port, duration=15.0, timeout=25)))  # fmt: skip
    t.start()
    try:
        wait_established(src.netns, dst_ip, port)
        cl.api.request("DELETE", f"security-group-rules/{rule_id}")
        gone = poll(lambda: f"tp_dst={port}" in "\n".join(OpenFlow(cl.lab.host("compute2").context).dump("br-int")),
                    lambda present: not present)  # fmt: skip
        assert not gone, "the rule's flow is still on compute2"
    finally:
        t.join(timeout=30)
    assert t.is_alive() or not result["check"].ok, result  # type: ignore[attr-defined]


def test_a_remote_group_rule_admits_its_members_only(cl):
    """A group allowing TCP 5432 in from the members of another group: a member connects from
    the other host and from the server's, a non-member does not, and a member whose port leaves
    the group loses access for new connections while the other member keeps it."""
    net = cl.network("of-rg", "10.69.0.0/24")
    clients, others, db = _group(cl, "of-clients"), _group(cl, "of-others"), _group(cl, "of-db")  # egress only
    _rule(cl, db["id"], direction="ingress", protocol="tcp", port_range_min=5432, port_range_max=5432,
          remote_group_id=clients["id"])  # fmt: skip
    srv = cl.vm("gs", net["id"], "compute2", security_groups=(db["id"],))
    m1 = cl.vm("gm", net["id"], "compute1", security_groups=(clients["id"],))
    m2 = cl.vm("gn", net["id"], "compute2", security_groups=(clients["id"],))
    x = cl.vm("gx", net["id"], "compute1", security_groups=(others["id"],))
    _until(lambda: _tcp(m1, srv, port=5432))
    _until(lambda: _tcp(m2, srv, port=5432))  # same host as the server
    assert not _tcp(x, srv, port=5432).ok  # not a member
    assert not _tcp(m1, srv, port=5433).ok  # a member, another port
    flows = OpenFlow(cl.lab.host("compute2").context).dump("br-int")
    conj = [line for line in flows if "table=82" in line and "conj" in line]
    assert any("conj_id=" in line for line in conj), flows
    assert any(f"nw_src={ip_of(m1)} " in line and "conjunction(" in line for line in conj), conj
    # m1 leaves the group: its member flow goes, new connections from it are dropped
    cl.api.request("PUT", f"ports/{m1.port_id}", {"port": {"security_groups": [others["id"]]}})
    _until(lambda: _tcp(m1, srv, port=5432), ok=False)
    assert _tcp(m2, srv, port=5432).ok
    flows = OpenFlow(cl.lab.host("compute2").context).dump("br-int")
    assert not any(f"nw_src={ip_of(m1)} " in line and "conjunction(" in line for line in flows)
    found = poll(lambda: cl.api.request("GET", "audit")["audit"], lambda doc: doc["drift_count"] == 0, timeout=10)
    assert found["drift_count"] == 0, [d for h in found["hosts"].values() for d in h["drift"]]


def test_spoofed_mac_and_address_dropped_allowed_pair_passes(cl):
    net = cl.network("of-spoof", "10.65.0.0/24")
    a = cl.vm("pa", net["id"], "compute1")
    b = cl.vm("pb", net["id"], "compute2")
    _until(lambda: _tcp(a, b))
    extra = "10.65.0.200"
    programs.run(["ip", "addr", "add", f"{extra}/24", "dev", "eth0"], netns=a.netns)
    assert not _ping_from(a, extra, b).ok and not _tcp_from(a, extra, b).ok
    cl.api.request("PUT", f"ports/{a.port_id}", {"port": {"allowed_address_pairs": [{"ip_address": extra}]}})
    _until(lambda: _tcp_from(a, extra, b))
    programs.run(["ip", "link", "set", "eth0", "address", "fa:16:3e:00:be:ef"], netns=a.netns)
    assert not _tcp(a, b).ok and not probes.ping(a.netns, ip_of(b), count=2).ok
    programs.run(["ip", "link", "set", "eth0", "address", a.mac], netns=a.netns)
    _until(lambda: _tcp(a, b))


def test_two_projects_same_addresses_on_one_host(cl):
    pairs = []
    for project in ("of-p1", "of-p2"):
        net = cl.api.request("POST", "networks", {"network": {"name": project, "project_id": project}})["network"]
        cl.api.request("POST", "subnets", {"subnet": {"network_id": net["id"], "cidr": "10.66.0.0/24", "ip_version": 4,
                                                      "project_id": project}})  # fmt: skip
        x = cl.vm(f"{project[-2:]}x", net["id"], "compute1", fixed_ip="10.66.0.11", dhcp=False)
        y = cl.vm(f"{project[-2:]}y", net["id"], "compute2", fixed_ip="10.66.0.12", dhcp=False)
        pairs.append((x, y))
    (x1, y1), (x2, y2) = pairs
    _until(lambda: _tcp(x1, y1))
    _until(lambda: _tcp(x2, y2))
    # a long stream in project 1 while project 2 uses the same addresses and ports on the same hosts
    with stream_running(x1, y1, 5003):
        assert _tcp(x2, y2, port=5004).ok
    # the same addresses in two conntrack zones (each network's local VLAN) on the shared host
    dump = OvsInstance(cl.lab.host("compute1").context).appctl("dpctl/dump-conntrack")
    zones = {line.split("zone=")[1].split(",")[0] for line in dump.splitlines()
             if "orig=(src=10.66.0.11,dst=10.66.0.12" in line and "zone=" in line}  # fmt: skip
    assert len(zones) == 2, dump


def test_unfiltered_port_and_agent_restart_under_a_stream(cl):
    net = cl.network("of-rs", "10.67.0.0/24")
    a = cl.vm("ra", net["id"], "compute1")
    b = cl.vm("rb", net["id"], "compute2")
    port = cl.api.request("POST", "ports", {"port": {"network_id": net["id"], "port_security_enabled": False,
                                                     "security_groups": []}})["port"]  # fmt: skip
    n = cl.vm("rn", None, "compute1", port_id=port["id"])
    _until(lambda: _tcp(a, b))
    assert _tcp(a, n, port=6001).ok  # port security off: nothing filters what reaches it
    assert not _tcp(n, a).ok  # a's default group still filters what n sends it (same host)
    restart_agent_under_a_stream(cl, a, b)


def test_the_audit_finds_the_firewall_flows_as_planned(cl):
    net = cl.network("of-audit", "10.68.0.0/24")
    a = cl.vm("aa", net["id"], "compute1")
    b = cl.vm("ab", net["id"], "compute2")
    _until(lambda: _tcp(a, b))
    found = poll(lambda: cl.api.request("GET", "audit")["audit"], lambda doc: doc["drift_count"] == 0, timeout=10)
    assert found["drift_count"] == 0, [d for h in found["hosts"].values() for d in h["drift"]]


def _ipv6_up(cl, vm) -> str:  # type: ignore[no-untyped-def]
    """Turn IPv6 on in the instance (the lab starts it off) with the port's IPv6 fixed address
    (no DAD wait); that address."""
    port = cl.api.request("GET", f"ports/{vm.port_id}")["port"]
    address = next(f["ip_address"] for f in port["fixed_ips"] if ":" in f["ip_address"])
    for key in ("all", "default", "eth0"):
        programs.run(["sysctl", "-qw", f"net.ipv6.conf.{key}.disable_ipv6=0"], netns=vm.netns)
    programs.run(["ip", "-6", "addr", "add", f"{address}/64", "dev", "eth0", "nodad"], netns=vm.netns)
    return address  # type: ignore[no-any-return]


def test_ipv6_rules_anti_spoofing_and_a_removed_rule_cut(cl):
    """IPv6 through the same tables: an IPv6 rule admits TCP over IPv6 to its port only and
    implies nothing for IPv4; a source the port does not own is dropped until it is an allowed
    address pair; a removed IPv6 rule cuts a running IPv6 stream (the ``ipv6`` mark flow)."""
    net = cl.network("of-v6", "10.70.0.0/24")
    cl.api.request("POST", "subnets", {"subnet": {"network_id": net["id"], "cidr": "2001:db8:70::/64", "ip_version": 6}})
    web = _group(cl, "of-web6")  # egress only
    rule = _rule(cl, web["id"], direction="ingress", ethertype="IPv6", protocol="tcp", port_range_min=8080,
                 port_range_max=8080)  # fmt: skip
    a = cl.vm("sixa", net["id"], "compute1")
    srv = cl.vm("sixs", net["id"], "compute2", security_groups=(web["id"],))
    a6, s6 = _ipv6_up(cl, a), _ipv6_up(cl, srv)
    _until(lambda: probes.transfer(a.netns, srv.netns, s6, port=8080, timeout=QUICK))
    assert not probes.transfer(a.netns, srv.netns, s6, port=8081, timeout=QUICK).ok
    assert not _tcp(a, srv, port=8080).ok  # IPv4: the rule is IPv6 only
    assert _tcp_from(a, a6, srv, port=8080, dst_ip=s6).ok
    # a source address a's port does not own: dropped in 71; an allowed address pair: passes
    extra = "2001:db8:70::be:ef"
    programs.run(["ip", "-6", "addr", "add", f"{extra}/64", "dev", "eth0", "nodad"], netns=a.netns)
    assert not _tcp_from(a, extra, srv, port=8080, dst_ip=s6).ok
    cl.api.request("PUT", f"ports/{a.port_id}", {"port": {"allowed_address_pairs": [{"ip_address": extra}]}})
    _until(lambda: _tcp_from(a, extra, srv, port=8080, dst_ip=s6))
    # a removed IPv6 rule cuts the established IPv6 stream (the ``ipv6`` mark flow)
    _a_removed_rule_cuts_a_stream(cl, a, srv, s6, rule["id"])
    assert not probes.transfer(a.netns, srv.netns, s6, port=8080, timeout=QUICK).ok
