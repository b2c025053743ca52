"""Trunk wiring: the pure plan (agent/l2/trunks.py) and the reconciler against the fake OVS."""

from __future__ import annotations

import pytest

from neutrino.agent.l2 import trunks
from neutrino.agent.l2.reconciler import L2Config, OvsL2Reconciler
from neutrino.contract import desired as contract
from neutrino.dataplane.fake_ovs import FakeOpenFlow, FakeOvsdb, FakeOvsInstance, FakeOvsState
from neutrino.dataplane.naming import trunk_bridge, trunk_patch_ports
from tests.unit.test_l2_reconciler import VLAN, VXLAN, port

pytestmark = pytest.mark.unit

TRUNK = "7de46c22-e2b6-4959-ac5a-0e624632ab32"
PARENT, SUB1, SUB2 = ("aaaaaaaa-1111-0000-0000-000000000001", "bbbbbbbb-2222-0000-0000-000000000002",
                      "cccccccc-3333-0000-0000-000000000003")  # fmt: skip
MAC = "fa:16:3e:00:00:01"


def trunk_state(*subs: tuple[str, int]) -> contract.TrunkState:
    return contract.TrunkState(TRUNK, PARENT, MAC, True, tuple(contract.TrunkSubPort(p, MAC, s) for p, s in subs))


def test_names_are_neutrons():
    assert trunk_bridge(TRUNK) == "tbr-7de46c22-e"
    assert trunk_patch_ports("tp", PARENT) == ("tpi-aaaaaaaa-11", "tpt-aaaaaaaa-11")
    assert trunk_patch_ports("sp", SUB1) == ("spi-bbbbbbbb-22", "spt-bbbbbbbb-22")


def test_wanted_needs_the_trunk_bridge():
    assert trunks.wanted([trunk_state((SUB1, 101))], ["br-int"], "br-int") == []
    got = trunks.wanted([trunk_state((SUB1, 101))], ["br-int", trunk_bridge(TRUNK)], "br-int")
    assert [(p.bridge, p.name, p.peer, p.tag) for p in got] == [
        ("br-int", "tpi-aaaaaaaa-11", "tpt-aaaaaaaa-11", None),
        ("tbr-7de46c22-e", "tpt-aaaaaaaa-11", "tpi-aaaaaaaa-11", 0),
        ("br-int", "spi-bbbbbbbb-22", "spt-bbbbbbbb-22", None),
        ("tbr-7de46c22-e", "spt-bbbbbbbb-22", "spi-bbbbbbbb-22", 101),
    ]
    assert got[2].external_ids() == {"iface-id": SUB1, "attached-mac": MAC, "neutrino-trunk": TRUNK}


def test_plan_adds_fixes_and_removes_only_trunk_patches():
    want = trunks.wanted([trunk_state((SUB1, 101))], ["br-int", trunk_bridge(TRUNK)], "br-int")
    good = [trunks.PortSeen(p.name, p.bridge, "patch", p.peer, p.tag, p.external_ids()) for p in want]
    assert trunks.plan(want, good, "br-int") == ([], [])
    wrong_tag = [*good[:3], trunks.PortSeen(good[3].name, good[3].bridge, "patch", good[3].peer, 102,
                                            dict(good[3].external_ids))]  # fmt: skip
    assert [p.name for p in trunks.plan(want, wrong_tag, "br-int")[0]] == ["spt-bbbbbbbb-22"]
    stale = [*good, trunks.PortSeen("spi-dddddddd-44", "br-int", "patch", "spt-dddddddd-44", 3),
             trunks.PortSeen("spi-foreign", "br-int", "internal", None, None),
             trunks.PortSeen("patch-tun", "br-int", "patch", "patch-int", None)]  # fmt: skip
    assert trunks.plan(want, stale, "br-int") == ([], ["spi-dddddddd-44"])


@pytest.fixture
def world():
    state = FakeOvsState()
    FakeOvsInstance(state=state).start()
    db, of = FakeOvsdb(state=state), FakeOpenFlow(state=state)
    with db.transaction() as txn:
        txn.add_bridge("br-physnet1", datapath_type="netdev")
        txn.add_bridge("br-int", datapath_type="netdev")
    cfg = L2Config(bridge_mappings={"physnet1": "br-physnet1"}, tunnel_types=["vxlan"], local_ip="172.31.0.2",
                   datapath_type="netdev")  # fmt: skip
    return db, of, cfg


def plug_into_trunk_bridge(db: FakeOvsdb) -> None:
    """What the lab (Nova's os-vif) does for a trunk parent: the VIF on tbr-<trunk>."""
    with db.transaction() as txn:
        txn.add_bridge(trunk_bridge(TRUNK), datapath_type="netdev")
        txn.add_port(trunk_bridge(TRUNK), "qvoaaaaaaaa-11", iface_external_ids={"iface-id": PARENT, "attached-mac": MAC})


def test_reconciler_wires_subports_to_their_networks_local_vlans(world):
    db, of, cfg = world
    r = OvsL2Reconciler(cfg, db, of)
    ports = (port(PARENT, "net-parent", VXLAN), port(SUB1, "net-sub", VLAN))
    state = contract.DesiredHostState(host="c1", ports=ports, trunks=(trunk_state((SUB1, 101)),),
                                      local_tunnel_ip="172.31.0.2")  # fmt: skip
    res = r.reconcile(state)
    assert res.wired == [] and db.port("tpi-aaaaaaaa-11") is None  # not plugged yet: nothing to patch
    plug_into_trunk_bridge(db)
    res = r.reconcile(state)
    assert res.wired == [PARENT, SUB1]
    tpi, spi = db.port("tpi-aaaaaaaa-11"), db.port("spi-bbbbbbbb-22")
    assert tpi.tag != spi.tag and {tpi.tag, spi.tag} == {1, 2}
    assert spi.port_other_config["net_uuid"] == "net-sub" and spi.port_other_config["segmentation_id"] == "100"
    assert db.port("spt-bbbbbbbb-22").tag == 101 and db.port("tpt-aaaaaaaa-11").tag == 0
    assert db.port("spt-bbbbbbbb-22").bridge == trunk_bridge(TRUNK)
    r.reported(res)
    assert r.reconcile(state).ovsdb_commands == 0

    # the subport leaves the trunk: both its patch ports go, it is reported down
    gone = contract.DesiredHostState(host="c1", ports=ports[:1], trunks=(trunk_state(),), local_tunnel_ip="172.31.0.2")
    res = r.reconcile(gone)
    assert res.unwired == [SUB1] and db.port("spi-bbbbbbbb-22") is None and db.port("spt-bbbbbbbb-22") is None
    r.reported(res)

    # the instance is gone (its trunk bridge deleted): the br-int end of the parent goes too
    with db.transaction() as txn:
        txn.del_bridge(trunk_bridge(TRUNK))
    res = r.reconcile(gone)
    assert db.port("tpi-aaaaaaaa-11") is None and res.unwired == [PARENT]
