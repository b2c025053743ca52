"""QoS on br-int: meters and flows as data (agent/l2/qos.py), and the reconciler with the fake."""

from __future__ import annotations

import dataclasses

import pytest

from neutrino.agent.l2 import qos
from neutrino.agent.l2.reconciler import OvsL2Reconciler
from neutrino.contract import desired as contract
from neutrino.dataplane.openflow import parse_meters
from tests.unit.test_l2_reconciler import VLAN, desired, plug, port, world  # noqa: F401 - a fixture

pytestmark = pytest.mark.unit
MAC = "fa:16:3e:00:00:01"


def test_plan():
    assert qos.plan([]) == ({}, [])
    limits = contract.QosLimits(egress_kbps=50000, ingress_kbps=20000, ingress_burst_kbps=1000, dscp_mark=46)
    meters, flows = qos.plan([qos.QosPort("qvoabc", 7, MAC, limits)])
    assert meters == {14: (50000, 40000), 15: (20000, 1000)}
    rendered = sorted(f.render().split(",", 1)[1] for f in flows)
    assert rendered == [
        "table=0,priority=10,in_port=qvoabc,actions=meter:14,resubmit(,60)",
        "table=0,priority=11,in_port=qvoabc,ip,actions=meter:14,mod_nw_tos:184,resubmit(,60)",
        "table=0,priority=11,in_port=qvoabc,ipv6,actions=meter:14,mod_nw_tos:184,resubmit(,60)",
        "table=60,priority=2,dl_dst=fa:16:3e:00:00:01,actions=meter:15,NORMAL",
    ]
    _, only_dscp = qos.plan([qos.QosPort("qvoabc", 7, MAC, contract.QosLimits(dscp_mark=10))])
    assert [f.actions for f in only_dscp] == ["mod_nw_tos:40,resubmit(,60)"] * 2


def test_parse_meters():
    text = ("OFPST_METER_CONFIG reply (OF1.3) (xid=0x2):\nmeter=1 kbps burst bands=\n"
            "type=drop rate=50000 burst_size=40000\n\nmeter=2 kbps burst bands=\ntype=drop rate=20000 burst_size=16000\n")
    assert parse_meters(text) == {1: (50000, 40000), 2: (20000, 16000)}


def test_reconciler_installs_and_removes_meters(world):  # noqa: F811
    state, db, of, cfg = world
    r = OvsL2Reconciler(cfg, db, of)
    a = "aaaaaaaa-0000-0000-0000-000000000001"
    qvo = plug(db, a)
    limited = dataclasses.replace(port(a, "net1", VLAN), qos=contract.QosLimits(egress_kbps=50000, dscp_mark=46))
    r.reconcile(desired(limited))
    ofport = db.port(qvo).ofport
    assert of.meters["br-int"] == {2 * ofport: (50000, 40000)}
    assert any(f"meter:{2 * ofport},mod_nw_tos:184" in line for line in of.dump("br-int"))
    assert r.reconcile(desired(limited)).flow_changes == 0
    r.reconcile(desired(port(a, "net1", VLAN)))
    assert of.meters["br-int"] == {} and not any("meter:" in line for line in of.dump("br-int"))
