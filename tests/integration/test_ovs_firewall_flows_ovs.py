"""The native OVS firewall's remote-group conjunctions (agent/l2/ovs_firewall_flows.py and
ovs_firewall_conjunctions.py) in a real OVS 3.1 (root): accepted, read back as rendered (no audit drift, a fresh replace rewrites
nothing), and ``ofproto/trace`` commits a new connection from a member and drops a non-member's."""

from __future__ import annotations

import re
import time

import pytest

from neutrino.agent.l2 import ovs_firewall_flows as fwf
from neutrino.contract.desired import RemoteGroup
from neutrino.dataplane import exec as programs
from neutrino.dataplane.host import HostContext
from neutrino.dataplane.openflow import COOKIE, PROTOCOLS, Flow, OpenFlow
from neutrino.dataplane.ovs import OvsInstance
from neutrino.dataplane.ovsdb import Ovsdb
from neutrino.tools.audit import drift
from tests.integration.ovs_fixtures import ovs_host  # noqa: F401
from tests.unit.test_firewall_rules import MAC, port, rule

pytestmark = pytest.mark.root

Z = 3
OTHER_MAC = "fa:16:3e:00:00:0b"
MEMBERS = RemoteGroup("sg-clients", ("10.0.0.21", "10.0.0.22"), ("2001:db8::21",))
SERVERS = RemoteGroup("sg-1", ("10.0.0.10", "10.0.0.21"), ())
"""tapa's own group, 10.0.0.21 in both: its member flow in 82 carries two conjunctions."""


def firewall(clients: RemoteGroup = MEMBERS) -> list[Flow]:
    """tapa: TCP 22 in from sg-clients (v4 and v6), TCP 80 in from its own group, TCP 5432 out to
    sg-clients; tapb: no port security (its packets reach tapa's ingress rules)."""
    a = port(rule("ingress", protocol="tcp", low=22, high=22, remote_group="sg-clients"),
             rule("ingress", "IPv6", protocol="tcp", low=22, high=22, remote_group="sg-clients"),
             rule("ingress", protocol="tcp", low=80, high=80, remote_group="sg-1"),
             rule("egress", protocol="tcp", low=5432, high=5432, remote_group="sg-clients"),
             ips=("10.0.0.10", "2001:db8::10"))  # fmt: skip
    b = port(security=False, pid="b" * 10 + "-x", mac=OTHER_MAC, ips=("10.0.0.21",))
    return fwf.flows([fwf.FwPort("tapa", Z, a), fwf.FwPort("tapb", Z, b)], [clients, SERVERS])


def build(host: HostContext) -> None:
    with Ovsdb(host).transaction() as tx:
        tx.add_bridge("br-int", datapath_type="netdev", fail_mode="secure", protocols=PROTOCOLS)
        for name in ("tapa", "tapb"):
            tx.add_port("br-int", name, iface_type="internal")


def trace(ovs: OvsInstance, packet: str) -> str:
    return ovs.appctl("ofproto/trace", "br-int", packet, "--ct-next", "trk,new")


def datapath_port(ovs: OvsInstance, name: str) -> str:
    """The port's number in the datapath (``Datapath actions`` print it, not the OpenFlow one)."""
    found = re.search(rf"^\s*{name} \d+/(\d+):", ovs.appctl("dpif/show"), re.M)
    assert found
    return found[1]


def datapath_actions(out: str) -> str:
    return [line for line in out.splitlines() if line.startswith("Datapath actions:")][-1]


def test_conjunctions_accepted_read_back_and_filter(ovs_host: HostContext) -> None:  # noqa: F811
    build(ovs_host)
    of, ovs = OpenFlow(ovs_host), OvsInstance(ovs_host)
    flows = firewall()
    assert any(f.match.startswith("conj_id=") for f in flows)
    of.replace("br-int", flows)
    assert of.cookie_flows("br-int") == len(flows)
    dumped = of.dump("br-int")
    assert drift.flows("br-int", flows, dumped, COOKIE) == [], "\n".join(dumped)
    # a member flow shared by two conjunctions reads back with both actions, in our order
    shared = [f for f in flows if f.table == fwf.RULES_INGRESS and f.match == "ip,nw_src=10.0.0.21"]
    assert len(shared) == 1 and shared[0].actions.count("conjunction(") == 2, shared
    committed = f"Datapath actions: ct(commit,zone={Z}),{datapath_port(ovs, 'tapa')}"
    ingress = f"in_port=tapb,dl_src={OTHER_MAC},dl_dst={MAC},tcp,nw_dst=10.0.0.10,tp_src=40000"
    # from a member of sg-clients to port 22: through the conjunction, committed, out to tapa
    out = trace(ovs, f"{ingress},nw_src=10.0.0.21,tp_dst=22")
    assert re.search(r"conj_id=\d+", out) and datapath_actions(out) == committed, out
    assert datapath_actions(trace(ovs, f"{ingress},nw_src=10.0.0.21,tp_dst=80")) == committed  # sg-1 too
    # from a non-member: dropped; from a member to a port no rule names: dropped
    assert datapath_actions(trace(ovs, f"{ingress},nw_src=10.0.0.99,tp_dst=22")).endswith("drop")
    assert datapath_actions(trace(ovs, f"{ingress},nw_src=10.0.0.21,tp_dst=23")).endswith("drop")
    # TCP 80 only from tapa's own group: 10.0.0.22 is a client, not in it
    assert datapath_actions(trace(ovs, f"{ingress},nw_src=10.0.0.22,tp_dst=80")).endswith("drop")
    # IPv6 from the v6 member
    v6 = f"in_port=tapb,dl_src={OTHER_MAC},dl_dst={MAC},tcp6,ipv6_dst=2001:db8::10,tp_src=40000,tp_dst=22"
    out = trace(ovs, f"{v6},ipv6_src=2001:db8::21")
    assert "ct(commit" in out, out
    assert datapath_actions(trace(ovs, f"{v6},ipv6_src=2001:db8::99")).endswith("drop")
    # egress: to a member's 5432 committed (then NORMAL), to a non-member dropped
    egress = f"in_port=tapa,dl_src={MAC},dl_dst={OTHER_MAC},tcp,nw_src=10.0.0.10,tp_src=40000,tp_dst=5432"
    out = trace(ovs, f"{egress},nw_dst=10.0.0.22")
    assert "ct(commit" in out and "resubmit(,73)" in out, out
    assert datapath_actions(trace(ovs, f"{egress},nw_dst=10.0.0.99")).endswith("drop")

    # a fresh adapter's replace (a restarted agent) rewrites no flow: each reads back as written
    time.sleep(1.1)
    OpenFlow(ovs_host).replace("br-int", firewall())
    text = programs.run(["ovs-ofctl", "-O", "OpenFlow14", "dump-flows", "br-int"], env=ovs_host.ovs_env).stdout
    rewritten = [line.strip() for line in text.splitlines() if (m := re.search(r"duration=([\d.]+)s", line)) and float(m[1]) < 1]
    assert not rewritten, "\n".join(rewritten)

    # a member leaves: an incremental apply removes its member flow only; its packets now drop
    of.apply("br-int", flows)
    lines = of.apply("br-int", firewall(RemoteGroup("sg-clients", ("10.0.0.22",), MEMBERS.ipv6)))
    # 72's member flow goes; 82's stays for sg-1 with one conjunction less
    add = f"add cookie={COOKIE:#x},table=82,priority=71,ip,nw_src=10.0.0.21,actions="
    assert lines[0] == f"delete_strict cookie={COOKIE:#x}/-1,table=72,priority=71,ip,nw_dst=10.0.0.21", lines
    assert len(lines) == 2 and lines[1].startswith(add), lines
    assert lines[1].removeprefix(add) in re.findall(r"conjunction\(\d+,2/2\)", shared[0].actions), lines
    assert datapath_actions(trace(ovs, f"{ingress},nw_src=10.0.0.21,tp_dst=22")).endswith("drop")
    assert datapath_actions(trace(ovs, f"{ingress},nw_src=10.0.0.21,tp_dst=80")) == committed
    assert datapath_actions(trace(ovs, f"{ingress},nw_src=10.0.0.22,tp_dst=22")) == committed


def trace_state(ovs: OvsInstance, packet: str, state: str) -> str:
    return ovs.appctl("ofproto/trace", "br-int", packet, "--ct-next", state)


def test_established_packets_are_judged_again_and_a_cut_connection_stays_cut(ovs_host: HostContext) -> None:  # noqa: F811
    """A connection's packets in its original direction pass the rules again; one no rule allows
    any more marks the connection (``ct_mark``) and is dropped, and every later packet of it, in
    either direction, is dropped; replies pass without a rule."""
    build(ovs_host)
    of, ovs = OpenFlow(ovs_host), OvsInstance(ovs_host)
    of.replace("br-int", firewall())
    tapa = datapath_port(ovs, "tapa")
    ingress = f"in_port=tapb,dl_src={OTHER_MAC},dl_dst={MAC},tcp,nw_dst=10.0.0.10,tp_src=40000"
    # established, original direction, still allowed: out to tapa without a second commit
    out = trace_state(ovs, f"{ingress},nw_src=10.0.0.21,tp_dst=22", "trk,est")
    assert datapath_actions(out) == f"Datapath actions: {tapa}", out
    # established, no rule for it (port 23): the connection is marked and the packet dropped
    out = trace_state(ovs, f"{ingress},nw_src=10.0.0.21,tp_dst=23", "trk,est")
    assert re.search(r"Datapath actions: ct\(commit,zone=3,mark=0x1/0xffffffff\)$", datapath_actions(out)), out
    # a marked connection: dropped whatever the rules say
    out = trace_state(ovs, f"{ingress},nw_src=10.0.0.21,tp_dst=22,ct_mark=0x1", "trk,est")
    assert datapath_actions(out).endswith("drop"), out
    # a reply (tapa's connection out to 10.0.0.99): accepted with no ingress rule for it
    out = trace_state(ovs, f"{ingress},nw_src=10.0.0.99,tp_dst=23", "trk,est,rpl")
    assert datapath_actions(out) == f"Datapath actions: {tapa}", out
    # egress the same way: tapa's established packet to a non-member's 5432 marks and drops
    egress = f"in_port=tapa,dl_src={MAC},dl_dst={OTHER_MAC},tcp,nw_src=10.0.0.10,tp_src=40000,tp_dst=5432"
    assert "mark=0x1" in datapath_actions(trace_state(ovs, f"{egress},nw_dst=10.0.0.99", "trk,est"))
    assert "mark=0x1" not in datapath_actions(trace_state(ovs, f"{egress},nw_dst=10.0.0.22", "trk,est"))
