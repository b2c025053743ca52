"""Trunks in the lab: a VLAN-aware instance on compute1 whose tagged frames (VID 101) reach an
instance on the subport's network on compute2, TCP and UDP both ways; untagged frames stay on
the parent's network; a subport added to the running instance's trunk carries VID 102 too;
removing a subport cuts it (docs/dataplane.md, "Trunks")."""

from __future__ import annotations

import time

import pytest

from neutrino.dataplane.naming import TAP, trunk_bridge
from neutrino.dataplane.ovsdb import Ovsdb
from neutrino.lab import instances, probes, trunk_instances
from tests.lab.cloud_support import cloud_lab, ip_of

pytestmark = pytest.mark.root

PHYSNET = {"provider:network_type": "vlan", "provider:physical_network": "physnet1"}


@pytest.fixture(scope="module")
def cl(lab_root):
    with cloud_lab(lab_root) as c:
        yield c


def _until(check, timeout=15.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


def test_vlan_aware_instance(cl):
    parent_net = cl.network("trunk-parent", "10.62.0.0/24", **PHYSNET, **{"provider:segmentation_id": 200})
    sub_net = cl.network("trunk-sub", "10.63.0.0/24", **PHYSNET, **{"provider:segmentation_id": 300})
    b = cl.vm("tsub", sub_net["id"], "compute2")
    c = cl.vm("tpar", parent_net["id"], "compute2")
    t = trunk_instances.create(cl.lab, "tvm", network=parent_net["id"], subports=[(sub_net["id"], 101)], host="compute1")
    sub = t.subports[0]
    cl.wait_active([t.port_id, sub["port_id"]])
    trunk = cl.api.request("GET", f"trunks/{t.trunk_id}")["trunk"]
    assert trunk["status"] == "ACTIVE"
    shown = cl.api.request("GET", f"ports/{sub['port_id']}")["port"]
    assert shown["binding:host_id"] == "compute1" and shown["device_owner"] == "trunk:subport"
    db = Ovsdb(cl.lab.host("compute1").context)
    assert db.port(t.devices["qvo"]).bridge == trunk_bridge(t.trunk_id)
    spt = db.port("spt-" + sub["port_id"][:11])
    assert spt is not None and spt.tag == 101 and spt.bridge == trunk_bridge(t.trunk_id)

    # tagged from the instance (VID 101 on its NIC) → the subport network's VLAN 300 on the wire
    sub_ip = sub["ip"].split("/")[0]
    tap = t.devices[TAP]
    with probes.Capture(tap, "vlan 101 and tcp", netns=cl.lab.host("compute1").netns, count=2) as inside, \
            probes.Capture(cl.lab.switches[0].name, "vlan 300 and tcp", count=2) as wire:
        check = probes.transfer(t.netns, b.netns, ip_of(b), size=256 << 10)
    assert check.ok and check.peer == sub_ip, check
    assert inside.lines and "vlan 101," in inside.lines[0], inside.lines
    assert wire.lines and "vlan 300," in wire.lines[0], wire.lines
    print(f"on the instance's tap: {inside.lines[0]}\non the physnet wire: {wire.lines[0]}")
    back = probes.transfer(b.netns, t.netns, sub_ip, port=5002, size=256 << 10)
    assert back.ok and back.peer == ip_of(b), back
    udp = probes.transfer(t.netns, b.netns, ip_of(b), port=5003, udp=True)
    assert udp.ok and udp.peer == sub_ip, udp
    udp_back = probes.transfer(b.netns, t.netns, sub_ip, port=5004, udp=True)
    assert udp_back.ok, udp_back

    # untagged frames are the parent's: eth0 reaches the parent network, on the wire as VLAN 200
    with probes.Capture(cl.lab.switches[0].name, "vlan 200 and tcp", count=2) as wire:
        plain = probes.transfer(t.netns, c.netns, ip_of(c), port=5005, size=64 << 10)
    assert plain.ok and plain.peer == ip_of(t), plain
    assert wire.lines and "vlan 200," in wire.lines[0], wire.lines

    # a subport added to the running instance's trunk (VID 102 → VLAN 301): the server binds it
    # beside the parent, the agent patches it, the instance's VLAN helper learns the VID
    late_net = cl.network("trunk-late", "10.64.0.0/24", **PHYSNET, **{"provider:segmentation_id": 301})
    d = cl.vm("tlate", late_net["id"], "compute2")
    t = trunk_instances.add_subports(cl.lab, "tvm", [(late_net["id"], 102)])
    late = t.subports[-1]
    cl.wait_active([late["port_id"]])
    assert _until(lambda: getattr(db.port("spt-" + late["port_id"][:11]), "tag", None) == 102)
    with probes.Capture(cl.lab.switches[0].name, "vlan 301 and tcp", count=2) as wire:
        later = probes.transfer(t.netns, d.netns, ip_of(d), port=5008, size=64 << 10)
    assert later.ok and later.peer == late["ip"].split("/")[0], later
    assert wire.lines and "vlan 301," in wire.lines[0], wire.lines
    assert probes.transfer(d.netns, t.netns, late["ip"].split("/")[0], port=5009, udp=True).ok
    assert probes.transfer(t.netns, b.netns, ip_of(b), port=5010, size=64 << 10).ok  # VID 101 still there

    # the subport leaves the trunk: its patch ports go and VID 101 reaches nothing
    cl.api.request("PUT", f"trunks/{t.trunk_id}/remove_subports", {"sub_ports": [{"port_id": sub["port_id"]}]})
    assert _until(lambda: db.port("spt-" + sub["port_id"][:11]) is None)
    assert not probes.transfer(t.netns, b.netns, ip_of(b), port=5006, timeout=2).ok
    assert probes.transfer(t.netns, c.netns, ip_of(c), port=5007, size=64 << 10).ok

    instances.delete(cl.lab, "tvm")
    assert db.bridge(trunk_bridge(t.trunk_id)) is None
    assert _until(lambda: db.port("tpi-" + t.port_id[:11]) is None)
    ids = {p["id"] for p in cl.api.request("GET", "ports")["ports"]}
    assert t.port_id not in ids and sub["port_id"] not in ids and late["port_id"] not in ids
    assert cl.api.request("GET", "trunks")["trunks"] == []
