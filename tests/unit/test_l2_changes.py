"""The OVS L2 pass's pure plan: desired + what OVS holds in, frozen changes out (no root, no
write): computed on the fake OVS, then applied, then planned again to nothing."""

from __future__ import annotations

import dataclasses

import pytest

from neutrino.agent.l2 import ovs_changes
from neutrino.agent.l2.reconciler import L2Config, OvsL2Reconciler
from neutrino.contract import desired as contract
from neutrino.dataplane.fake_ovs import FakeOpenFlow, FakeOvsdb, FakeOvsInstance, FakeOvsState
from tests.unit.test_l2_reconciler import VLAN, VXLAN, desired, plug, port

pytestmark = pytest.mark.unit

A, B = "aaaaaaaa-0000-0000-0000-000000000001", "bbbbbbbb-0000-0000-0000-000000000002"
PEER = contract.TunnelPeer("c2", "vxlan", "172.31.0.3", ("net2",))


@pytest.fixture
def world() -> tuple[FakeOvsdb, OvsL2Reconciler]:
    state = FakeOvsState()
    FakeOvsInstance(state=state).start()
    db = FakeOvsdb(state=state)
    with db.transaction() as txn:
        txn.add_bridge("br-int", datapath_type="netdev")
    cfg = L2Config(bridge_mappings={"physnet1": "br-physnet1"}, tunnel_types=["vxlan"], local_ip="172.31.0.2",
                   datapath_type="netdev")  # fmt: skip
    return db, OvsL2Reconciler(cfg, db, FakeOpenFlow(state=state))


def planned(db: FakeOvsdb, rec: OvsL2Reconciler, want: contract.DesiredHostState) -> ovs_changes.L2Changes:
    ports = db.find_ports()
    bridges = {b: db.bridge(b) for b in ovs_changes.bridges_wanted(rec.cfg, rec.tunnel_type)}
    return ovs_changes.changes(rec.cfg, rec.tunnel_type, rec.plan(want, ports), bridges, ports)


def test_changes_from_desired_and_actual(world: tuple[FakeOvsdb, OvsL2Reconciler]) -> None:
    db, rec = world
    qa, qb = plug(db, A), plug(db, B)
    want = desired(port(A, "net1", VLAN), port(B, "net2", VXLAN), peers=(PEER,))
    before = db.find_ports()
    changes = planned(db, rec, want)
    assert db.find_ports() == before  # planning writes nothing
    assert changes.bridges == ("br-int", "br-physnet1", "br-tun")  # br-int is not secure yet
    assert {(p.bridge, p.name, p.iface_type) for p in changes.ports} == {
        ("br-int", "int-br-physnet1", "patch"), ("br-physnet1", "phy-br-physnet1", "patch"),
        ("br-int", "patch-tun", "patch"), ("br-tun", "patch-int", "patch"), ("br-tun", "vxlan-ac1f0003", "vxlan"),
    }  # fmt: skip
    assert {(t.name, t.tag) for t in changes.tags} == {(qa, 1), (qb, 2)}
    assert changes.removed_ports == () and changes.count == 3 + 5 + 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        changes.bridges = ()  # type: ignore[misc]
    rec.reconcile(want)
    assert planned(db, rec, want) == ovs_changes.L2Changes()  # applied: nothing left to do


def test_a_peer_gone_and_a_port_unbound(world: tuple[FakeOvsdb, OvsL2Reconciler]) -> None:
    db, rec = world
    qa = plug(db, A)
    rec.reconcile(desired(port(A, "net2", VXLAN), peers=(PEER,)))
    changes = planned(db, rec, desired())
    assert changes.removed_ports == ("vxlan-ac1f0003",) and changes.ports == () and changes.bridges == ()
    assert changes.tags == (ovs_changes.TagChange(qa, 4095, tuple((k, None) for k in ovs_changes.LV_KEYS)),)
