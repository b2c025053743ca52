"""The L2 reconciler against the fake OVS: tags, other_config, flows, restart, reports."""

from __future__ import annotations

import pytest

from neutrino.agent.l2.reconciler import L2Config, OvsL2Reconciler
from neutrino.dataplane.fake_ovs import FakeOpenFlow, FakeOvsdb, FakeOvsInstance, FakeOvsState
from neutrino.dataplane.naming import hybrid_devices
from neutrino.contract import desired as contract

pytestmark = pytest.mark.unit

VLAN = contract.Segment("vlan", "physnet1", 100, 1500)
VXLAN = contract.Segment("vxlan", None, 1001, 1450)


def port(pid: str, net: str, seg: contract.Segment | None, admin: bool = True) -> contract.BoundPort:
    return contract.BoundPort(
        port_id=pid, network_id=net, mac_address="fa:16:3e:00:00:01", admin_state_up=admin,
        device_owner="compute:nova", device_id="vm", vif_type="ovs", segment=seg, fixed_ips=(),
        port_security_enabled=True, security_groups=(), rules=(), allowed_address_pairs=(), revision_number=1,
    )  # fmt: skip


def plug(db: FakeOvsdb, pid: str) -> str:
    qvo = hybrid_devices(pid)["qvo"]
    with db.transaction() as txn:
        txn.add_port("br-int", qvo, iface_external_ids={"iface-id": pid, "attached-mac": "fa:16:3e:00:00:01",
                                                        "iface-status": "active", "vm-uuid": "vm"})  # fmt: skip
    return qvo


@pytest.fixture
def world():
    state = FakeOvsState()
    FakeOvsInstance(state=state).start()
    db, of = FakeOvsdb(state=state), FakeOpenFlow(state=state)
    with db.transaction() as txn:  # what the lab builds
        txn.add_bridge("br-physnet1", datapath_type="netdev")
        txn.add_bridge("br-int", datapath_type="netdev")
    cfg = L2Config(bridge_mappings={"physnet1": "br-physnet1"}, tunnel_types=["vxlan"], local_ip="172.31.0.2",
                   datapath_type="netdev")  # fmt: skip
    return state, db, of, cfg


def desired(*ports: contract.BoundPort, peers: tuple[contract.TunnelPeer, ...] = ()) -> contract.DesiredHostState:
    return contract.DesiredHostState(host="c1", ports=ports, tunnel_peers=peers, local_tunnel_ip="172.31.0.2")


def test_wires_vlan_and_vxlan_ports_and_reports_them(world):
    state, db, of, cfg = world
    r = OvsL2Reconciler(cfg, db, of)
    a, b, c = "aaaaaaaa-0000-0000-0000-000000000001", "bbbbbbbb-0000-0000-0000-000000000002", "cccccccc-0000-0000-0000-000000000003"
    qa, qb, qc = plug(db, a), plug(db, b), plug(db, c)
    peer = contract.TunnelPeer("c2", "vxlan", "172.31.0.3", ("net2",))
    res = r.reconcile(desired(port(a, "net1", VLAN), port(b, "net2", VXLAN), peers=(peer,)))
    assert res.wired == [a, b]  # c is plugged but not bound here: dead VLAN, not reported
    assert db.port(qa).tag == 1 and db.port(qb).tag == 2 and db.port(qc).tag == 4095
    assert db.port(qa).port_other_config == {
        "net_uuid": "net1", "network_type": "vlan", "physical_network": "physnet1", "tag": "1", "segmentation_id": "100",
    }  # fmt: skip
    assert set(db.list_bridges()) == {"br-int", "br-physnet1", "br-tun"}
    assert db.bridge("br-int").fail_mode == "secure"
    assert db.port("vxlan-ac1f0003").iface_options["remote_ip"] == "172.31.0.3"
    assert db.port("int-br-physnet1").iface_options == {"peer": "phy-br-physnet1"}
    flows = "\n".join(of.dump("br-int") + of.dump("br-physnet1") + of.dump("br-tun"))
    assert "dl_vlan=100,actions=set_field:4097->vlan_vid" in flows.replace(" ", "")
    assert "set_field:4196->vlan_vid" in flows and "set_field:0x3e9->tun_id" in flows and "tun_id=1001" in flows
    r.reported(res)

    # nothing changed: nothing done
    again = r.reconcile(desired(port(a, "net1", VLAN), port(b, "net2", VXLAN), peers=(peer,)))
    assert (again.ovsdb_commands, again.flow_changes, again.wired, again.unwired) == (0, 0, [], [])

    # b unplugged, a set admin down: both reported down; the peer left: its tunnel port goes
    with db.transaction() as txn:
        txn.del_port(qb)
    res = r.reconcile(desired(port(a, "net1", VLAN, admin=False)))
    assert res.unwired == [a, b] and db.port(qa).tag == 4095 and "net_uuid" not in db.port(qa).port_other_config
    assert db.port("vxlan-ac1f0003") is None


def test_restart_keeps_tags_and_vswitchd_loss_is_healed(world):
    state, db, of, cfg = world
    a, b = "aaaaaaaa-0000-0000-0000-000000000001", "bbbbbbbb-0000-0000-0000-000000000002"
    qa, qb = plug(db, a), plug(db, b)
    want = desired(port(a, "net2", VXLAN), port(b, "net1", VLAN))
    OvsL2Reconciler(cfg, db, of).reconcile(want)
    tags = {qa: db.port(qa).tag, qb: db.port(qb).tag}
    # a new agent process (fresh reconciler): reads the lvids back, changes no tag
    fresh = OvsL2Reconciler(cfg, db, FakeOpenFlow(state=state))
    res = fresh.reconcile(want)
    assert {qa: db.port(qa).tag, qb: db.port(qb).tag} == tags and res.ovsdb_commands == 0
    # vswitchd killed: flows gone; after resync they are back
    FakeOvsInstance(state=state).kill_vswitchd()
    FakeOvsInstance(state=state).start()
    fresh.resync()
    fresh.reconcile(want)
    assert any("->vlan_vid" in f for f in of.dump("br-int"))


def test_the_firewall_runs_on_one_kept_thread_and_its_failure_fails_the_pass(world):
    """Alongside the OVSDB and flow writes, on one worker thread kept across passes (not a
    thread per pass); what it raises, the pass raises; ``close`` ends the thread."""
    import threading

    state, db, of, cfg = world
    threads: list[int] = []
    fail = [False]

    def firewall(ports, remote_groups=()):  # type: ignore[no-untyped-def]
        threads.append(threading.get_ident())
        if fail[0]:
            raise RuntimeError("nft refused")
        return False

    r = OvsL2Reconciler(cfg, db, of, firewall=firewall)
    state_now = desired(port("aaaaaaaa-0000-0000-0000-000000000001", "net1", VLAN))
    r.reconcile(state_now)
    r.reconcile(state_now)
    assert len(threads) == 2 and threads[0] == threads[1] != threading.get_ident()
    fail[0] = True
    with pytest.raises(RuntimeError, match="nft refused"):
        r.reconcile(state_now)
    worker = next(t for t in threading.enumerate() if t.ident == threads[0])
    r.close()
    worker.join(timeout=5)
    assert not worker.is_alive()


def test_a_pass_where_only_rules_and_members_changed_applies_the_firewall_alone(world):
    """Same OVSDB (change number) and same wiring: no OVSDB read, no flow diff, the firewall
    gets the ports with their new rules and the new members. Any OVSDB commit, a changed
    binding or a resync brings the whole pass back."""
    from dataclasses import replace

    state, db, of, cfg = world
    calls: list[tuple[list[contract.BoundPort], tuple[contract.RemoteGroup, ...]]] = []

    def firewall(ports, remote_groups=()):  # type: ignore[no-untyped-def]
        calls.append((list(ports), tuple(remote_groups)))
        return True

    r = OvsL2Reconciler(cfg, db, of, firewall=firewall)
    a = "aaaaaaaa-0000-0000-0000-000000000001"
    plug(db, a)
    rule = contract.SecurityRule("web", "ingress", "IPv4", None, None, None, (), remote_group_id="web")
    first = contract.DesiredHostState(host="c1", ports=(replace(port(a, "net1", VLAN), security_groups=("web",), rules=(rule,)),),
                                      remote_groups=(contract.RemoteGroup("web", ("10.0.0.1",), ()),))  # fmt: skip
    done = r.reconcile(first)
    assert done.wired == [a]
    r.reported(done)
    r.reconcile(first)  # the first pass wrote OVSDB: this one reads it and finds nothing to do
    reads = []
    db.find_ports = lambda **kw: reads.append(kw) or FakeOvsdb.find_ports(db, **kw)  # type: ignore[method-assign]
    joined = replace(first, remote_groups=(contract.RemoteGroup("web", ("10.0.0.1", "10.0.0.2"), ()),))
    flows = of.dump("br-int")
    res = r.reconcile(joined)
    assert reads == [] and res.firewall_applied and res.wired == res.unwired == [] and of.dump("br-int") == flows
    assert calls[-1][1] == joined.remote_groups and [p.port_id for p in calls[-1][0]] == [a]
    ruled = replace(joined, ports=(replace(joined.ports[0], rules=()),))  # a rule removed: still the firewall alone
    r.reconcile(ruled)
    assert reads == [] and calls[-1][0][0].rules == ()
    with db.transaction() as txn:  # anything committed to OVSDB: the whole pass
        txn.add_bridge("br-extra", datapath_type="netdev")
    r.reconcile(ruled)
    assert len(reads) == 1
    r.reconcile(ruled)
    assert len(reads) == 1  # and the one after it, with nothing new, is short again
    r.reconcile(replace(ruled, ports=(replace(ruled.ports[0], admin_state_up=False),)))  # the wiring changed
    assert len(reads) == 2
    r.resync()
    r.reconcile(ruled)
    assert len(reads) == 3


def test_a_bound_port_gets_its_firewall_before_its_vif_is_plugged(world):
    """The chains name devices, so they go in with the binding: the pass that wires the plugged
    port writes no firewall (and the port is filtered from its first frame)."""
    state, db, of, cfg = world
    seen: list[list[str]] = []

    def firewall(ports, remote_groups=()):  # type: ignore[no-untyped-def]
        ids = [p.port_id for p in ports]
        changed = not seen or seen[-1] != ids
        seen.append(ids)
        return changed

    r = OvsL2Reconciler(cfg, db, of, firewall=firewall)
    a, b = "aaaaaaaa-0000-0000-0000-000000000001", "bbbbbbbb-0000-0000-0000-000000000002"
    state_now = desired(port(a, "net1", VLAN), port(b, "net1", VLAN, admin=False))
    first = r.reconcile(state_now)  # bound here, not plugged yet: chains, no wiring
    assert seen == [[a]] and first.firewall_applied and first.wired == []
    plug(db, a)
    wired = r.reconcile(state_now)
    assert wired.wired == [a] and not wired.firewall_applied and seen[-1] == [a]
