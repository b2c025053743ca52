"""The incremental agent: the work queue's delayed and rate-limited adds (fake clock), the merge
of desired parts into the last state (pure), where each pass's state comes from, and a whole
pass that finds nothing to change writing and reporting nothing (fake dataplane)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from neutrino.agent.desired_merge import merge
from neutrino.agent.desired_source import DesiredSource, local_networks
from neutrino.agent.workqueue import WorkQueue
from neutrino.bus.client import PartsUnsupported
from neutrino.contract import desired as c
from neutrino.contract import messages

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# --- the work queue ---------------------------------------------------------------------------


def test_add_after_waits_for_the_clock_and_deduplicates():
    clock = Clock()
    q = WorkQueue(clock=clock)
    q.add_after("l2", 1.0)
    q.add_after("l2", 2.0)
    assert q.get(0) is None
    clock.now += 1.0
    assert q.get(0) == "l2"
    clock.now += 1.0
    assert q.get(0) is None  # the second add is due while l2 is processed: it runs once after done
    q.done("l2")
    assert q.get(0) == "l2"
    q.done("l2")
    q.add_after("x", 0)
    assert q.get(0) == "x"


def test_rate_limited_backoff_doubles_per_key_up_to_the_cap_and_forget_resets():
    clock = Clock()
    q = WorkQueue(clock=clock, base_delay=0.5, max_delay=5.0)
    delays = [q.add_rate_limited("l2") for _ in range(6)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    assert q.add_rate_limited("dhcp:n1") == 0.5  # each key its own count
    assert q.failures("l2") == 6
    q.forget("l2")
    assert q.failures("l2") == 0 and q.add_rate_limited("l2") == 0.5
    clock.now += 0.5
    assert {q.get(0), q.get(0)} == {"l2", "dhcp:n1"}


def test_get_wakes_for_a_delayed_key_on_the_real_clock():
    q = WorkQueue()
    q.add_after("l2", 0.05)
    assert q.get(timeout=30) == "l2"  # returns as soon as it is due


# --- the merge (pure) ---------------------------------------------------------------------------

RULE_WEB = c.SecurityRule("web", "ingress", "IPv4", "tcp", 80, 80, (), remote_group_id="web")
RULE_DB = c.SecurityRule("db", "ingress", "IPv4", "tcp", 5432, 5432, (), remote_group_id="web")


def port(pid: str, groups: tuple[str, ...], rules: tuple[c.SecurityRule, ...], net: str = "n1") -> c.BoundPort:
    return c.BoundPort(port_id=pid, network_id=net, mac_address="fa:16:3e:00:00:01", admin_state_up=True,
                       device_owner="compute:nova", device_id="vm", vif_type="ovs", segment=None, fixed_ips=(),
                       port_security_enabled=True, security_groups=groups, rules=rules, allowed_address_pairs=(),
                       revision_number=1)  # fmt: skip


def state(*ports: c.BoundPort, groups: tuple[c.RemoteGroup, ...] = ()) -> c.DesiredHostState:
    return c.DesiredHostState(host="h", ports=ports, remote_groups=groups).with_fingerprint()


WEB1 = c.RemoteGroup("web", ("10.0.0.1",), ())
WEB2 = c.RemoteGroup("web", ("10.0.0.1", "10.0.0.2"), ())
CACHED = state(port("p1", ("db", "web"), (RULE_DB, RULE_WEB)), port("p2", ("base",), ()), groups=(WEB1,))


def test_merge_new_group_members_and_rules():
    parts = c.DesiredParts("h", asked_groups=("web",), group_rules=(c.GroupRules("web", (RULE_WEB,)),), remote_groups=(WEB2,))
    merged = merge(CACHED, parts)
    assert merged == state(*CACHED.ports, groups=(WEB2,))
    assert merged.with_fingerprint().fingerprint == state(*CACHED.ports, groups=(WEB2,)).fingerprint != CACHED.fingerprint
    # the rules did not change: the very port objects stay (the firewall then renders only the sets)
    assert all(a is b for a, b in zip(merged.ports, CACHED.ports))
    # web loses its rule: p1 keeps db's, web's members stay (db's rule still names web)
    parts = c.DesiredParts("h", asked_groups=("web",), group_rules=(c.GroupRules("web", ()),), remote_groups=(WEB2,))
    assert merge(CACHED, parts) == state(port("p1", ("db", "web"), (RULE_DB,)), CACHED.ports[1], groups=(WEB2,))


def test_merge_ports_come_go_and_drop_unreferenced_groups():
    p3 = port("p3", ("base",), ())
    parts = c.DesiredParts("h", asked_ports=("p1", "p3"), ports=(p3,))
    assert merge(CACHED, parts) == state(CACHED.ports[1], p3)  # p1 left; nothing names web any more


def test_merge_refuses_what_it_cannot_tell():
    assert merge(CACHED, c.DesiredParts("h", asked_ports=("elsewhere",))) is None  # peer, member, DHCP...
    assert merge(CACHED, c.DesiredParts("h", asked_ports=("p3",), ports=(port("p3", (), (), net="n2"),))) is None
    new_ref = c.SecurityRule("db", "ingress", "IPv4", None, None, None, (), remote_group_id="ops")
    assert merge(CACHED, c.DesiredParts("h", asked_groups=("db",), group_rules=(c.GroupRules("db", (new_ref,)),))) is None
    assert merge(CACHED, c.DesiredParts("other")) is None
    trunked = replace(CACHED, trunks=(c.TrunkState("t", "p1", "fa:16:3e:00:00:01", True, ()),))
    assert merge(trunked, c.DesiredParts("h", asked_ports=("p2",), ports=(CACHED.ports[1],))) is None


def _dhcp_net(*ports: c.DhcpPort, own: tuple[str, ...] = ("dhcp-port",)) -> c.DhcpNetwork:
    return c.DhcpNetwork("n1", None, 1450, (), tuple(sorted(ports, key=lambda p: p.port_id)), own, 3)


def _entry(pid: str, rev: int = 1) -> c.DhcpPort:
    return c.DhcpPort(pid, "fa:16:3e:00:00:09", "compute:nova", (), (), rev)


def test_merge_takes_a_dhcp_entry_and_the_tunnel_peers_of_a_port_bound_elsewhere():
    peer = c.TunnelPeer("c1", "vxlan", "192.0.2.1", ("n1",))
    remote = c.RemotePort("n1", "fa:16:3e:00:00:09", ("10.0.0.9",), "192.0.2.1")
    cached = replace(CACHED, dhcp_networks=(_dhcp_net(_entry("old")),))
    parts = c.DesiredParts("h", asked_ports=("new", "old"), dhcp_networks=("n1",),
                           dhcp_ports=(c.NetworkDhcpPort("n1", _entry("new")),), tunnel_peers=(peer,),
                           local_tunnel_ip="192.0.2.2", remote_ports=(remote,))  # fmt: skip
    merged = merge(cached, parts)
    assert merged == replace(cached, dhcp_networks=(_dhcp_net(_entry("new")),), tunnel_peers=(peer,),
                             local_tunnel_ip="192.0.2.2", remote_ports=(remote,))  # fmt: skip
    # without peers in the answer (an older server), a port bound elsewhere is refused as before
    assert merge(cached, replace(parts, tunnel_peers=None, remote_ports=None)) is None
    # the networks served changed, the host's own DHCP port, or a router's port: whole
    assert merge(cached, replace(parts, dhcp_networks=("n1", "n2"))) is None
    assert merge(cached, replace(parts, asked_ports=("dhcp-port",), dhcp_ports=())) is None
    made = replace(_entry("new"), device_owner="network:dhcp")  # this host's DHCP port, just made
    assert merge(cached, replace(parts, dhcp_ports=(c.NetworkDhcpPort("n1", made),))) is None
    gateway = c.RouterGateway("new", "ext", "fa:16:3e:00:00:0a", (), None, True)
    routed = replace(cached, routers=(c.RouterState("r1", True, (), gateway, (), (), 1),))
    assert merge(routed, parts) is None


# --- where a pass's state comes from ------------------------------------------------------------


class FakeClient:
    host = "h"

    def __init__(self, parts: Any = None) -> None:
        self.whole, self.parts, self.asked = CACHED, parts, []

    def desired_state(self) -> c.DesiredHostState:
        return self.whole

    def desired_parts(self, ports: list[str], security_groups: list[str], logged: int = 0,
                      local_networks: Any = None) -> c.DesiredParts:  # fmt: skip
        self.asked.append((ports, security_groups))
        self.logged, self.local_networks = logged, local_networks
        if isinstance(self.parts, Exception):
            raise self.parts
        return self.parts


def hint(**fields: Any) -> dict[str, Any]:
    return messages.message(messages.HOST_CHANGED, **{"ports": [], "networks": [], "security_groups": [], "routers": [], **fields})


def test_source_fetches_parts_only_for_hints_it_can_take():
    parts = c.DesiredParts("h", asked_groups=("web",), group_rules=(c.GroupRules("web", (RULE_WEB,)),), remote_groups=(WEB2,))
    client = FakeClient(parts)
    source = DesiredSource(client, ports_hints=False)  # type: ignore[arg-type]
    source.hinted(hint(security_groups=["web"]))
    assert source.next_state() is CACHED  # the first pass is whole, whatever the hints
    source.hinted(hint(security_groups=["web"], logged=41))
    source.hinted(hint(security_groups=["web"], logged=40))
    assert source.next_state().remote_groups == (WEB2,) and client.asked == [([], ["web"])]
    assert client.logged == 41  # the newest event-log number of the hints, for the server's kept pieces
    assert source.next_state() is CACHED  # woken without a hint (OVSDB, retry): whole
    for unusable in (hint(networks=["n1"]), hint(routers=["r"]), hint(security_groups=["web"], more=True),
                     hint(), messages.message(messages.HOST_CHANGED, revision=0, resync=True)):  # fmt: skip
        source.hinted(hint(security_groups=["web"]))
        source.hinted(unusable)
        assert source.next_state() is CACHED, unusable
    assert source.fetched == {"whole": 7, "parts": 1, "refused": 0}
    # a port hint is parts for any agent (a DHCP agent's entry, a peer's port), over its networks
    source.hinted(hint(ports=["p1"]))
    source.next_state()
    assert client.asked[-1] == (["p1"], []) and client.local_networks == local_networks(CACHED)


def test_source_falls_back_to_whole_on_an_older_server_and_after_a_failed_pass():
    client = FakeClient(PartsUnsupported("get_desired_parts: UnknownMethod"))
    source = DesiredSource(client, ports_hints=True)  # type: ignore[arg-type]
    source.next_state()
    source.hinted(hint(ports=["p1"]))
    assert source.next_state() is CACHED and not source.supported
    source.hinted(hint(ports=["p1"]))
    source.next_state()
    assert len(client.asked) == 1  # not asked again
    source = DesiredSource(FakeClient(c.DesiredParts("h")), ports_hints=True)  # type: ignore[arg-type]
    source.next_state()
    source.hinted(hint(security_groups=["web"]))
    source.invalidate()
    source.next_state()
    assert source.fetched["parts"] == 0



def test_an_l2_agent_woken_by_its_dataplane_alone_reuses_its_last_state():
    client = FakeClient(c.DesiredParts("h"))
    source = DesiredSource(client, ports_hints=True)  # type: ignore[arg-type]
    first = source.next_state()
    client.whole = replace(CACHED, ports=CACHED.ports[:1])  # the server would answer otherwise now
    assert source.next_state() is first and source.reused == 1  # a VIF plugged: no round trip
    assert source.fetched == {"whole": 1, "parts": 0, "refused": 0} and client.asked == []
    source.invalidate()  # a failed pass, the periodic resync: whole again
    assert source.next_state() is client.whole and source.fetched["whole"] == 2
    source.hinted(hint(networks=["n1"]))  # a notification it cannot take: whole
    source.next_state()
    assert source.fetched["whole"] == 3 and source.reused == 1

def test_source_keeps_the_last_state_after_a_vswitchd_restart_unless_told_otherwise():
    client = FakeClient(c.DesiredParts("h"))
    source = DesiredSource(client, ports_hints=False)  # type: ignore[arg-type]  # DHCP/L3 too
    source.keep()
    source.next_state()  # the first pass is whole, kept or not
    source.keep()
    assert source.next_state() is CACHED and source.fetched == {"whole": 1, "parts": 0, "refused": 0}
    assert source.reused == 1
    source.keep()
    source.invalidate()  # a failed pass meanwhile: whole
    source.next_state()
    source.keep()
    source.hinted(hint(security_groups=["web"]))  # a hint meanwhile: its parts, merged as usual
    source.next_state()
    assert source.fetched == {"whole": 2, "parts": 1, "refused": 0} and source.reused == 1 and client.asked == [([], ["web"])]
    source.next_state()  # kept once only: the next unhinted pass is whole again
    assert source.fetched["whole"] == 3


# --- a whole pass with nothing to change ---------------------------------------------------------


def test_a_pass_that_finds_nothing_to_change_writes_and_reports_nothing(tmp_path):
    from neutrino.agent.adapters import AgentAdapters
    from neutrino.agent.firewall.sysctls import REQUIRED
    from neutrino.agent.runner import AgentSettings, HostAgent
    from neutrino.bus.inproc import InProcTransport
    from neutrino.dataplane.fake import FakeNetlink, FakeNftables
    from neutrino.dataplane.fake_ovs import FakeOpenFlow, FakeOvsdb, FakeOvsInstance, FakeOvsState
    from neutrino.dataplane.host import HostContext
    from neutrino.dataplane.naming import hybrid_devices

    ovs, netlink = FakeOvsState(), FakeNetlink()
    ovsdb = FakeOvsdb(state=ovs)
    nft, switch = FakeNftables(netlink), FakeOvsInstance(state=ovs)
    adapters = AgentAdapters(netlink=netlink, nftables=nft, ovsdb=ovsdb, openflow=FakeOpenFlow(state=ovs), switch=switch)
    switch.start()
    netlink._ns(None).sysctls.update(REQUIRED)
    seg = c.Segment("vlan", "physnet1", 100, 1500)
    ports = [replace(p, port_id=f"{p.port_id}-0000-0000-0000", segment=seg,
                     fixed_ips=(c.FixedIP("s", f"10.0.0.{i + 3}", "10.0.0.0/24", "10.0.0.1"),))
             for i, p in enumerate(CACHED.ports)]  # fmt: skip
    with ovsdb.transaction() as txn:
        txn.add_bridge("br-physnet1", datapath_type="netdev")
        txn.add_bridge("br-int", datapath_type="netdev")
        for p in ports:
            txn.add_port("br-int", hybrid_devices(p.port_id)["qvo"], iface_external_ids={
                "iface-id": p.port_id, "attached-mac": p.mac_address, "iface-status": "active", "vm-uuid": "vm"})  # fmt: skip
    transport = InProcTransport()
    settings = AgentSettings(roles=("l2",), bridge_mappings={"physnet1": "br-physnet1"}, firewall=True, state_dir=tmp_path)
    agent = HostAgent(HostContext(name="h"), transport, settings, adapters)
    reports: list[dict[str, Any]] = []
    whole = replace(CACHED, ports=tuple(ports)).with_fingerprint()
    agent.client.desired_state = lambda: whole  # type: ignore[method-assign]
    agent.client.report_pass = lambda **kw: reports.append(kw)  # type: ignore[method-assign,assignment]
    commits = [0]
    commit = ovsdb._commit
    ovsdb._commit = lambda cmds: (commits.__setitem__(0, commits[0] + 1), commit(cmds))[1]  # type: ignore[method-assign]
    applied: list[str] = []
    apply_table, apply_tables = nft.apply_table, nft.apply_tables
    nft.apply_table = lambda *a, **kw: (applied.append(a[1]), apply_table(*a, **kw))  # type: ignore[method-assign]
    nft.apply_tables = lambda *a, **kw: (applied.append("tables"), apply_tables(*a, **kw))  # type: ignore[method-assign]
    try:
        first = agent.reconcile_once()
        assert sorted(first.wired) == [p.port_id for p in ports] and len(reports) == 1 and applied
        before, applied[:] = commits[0], []
        assert before > 0
        second = agent.reconcile_once()
        assert (second.wired, second.unwired, second.ovsdb_commands, second.flow_changes, second.firewall_applied) == (
            [], [], 0, 0, False)
        assert len(reports) == 1 and applied == [] and commits[0] == before
    finally:
        transport.close()

