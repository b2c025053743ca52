"""The lab on the real machine: emulated hosts with their own OVS, instances, removal."""

from __future__ import annotations

import os
import signal
import time

import pytest

from neutrino.dataplane import daemons
from neutrino.dataplane.netlink import Netlink
from neutrino.dataplane.ovs import OvsInstance
from neutrino.dataplane.ovsdb import Ovsdb
from neutrino.lab import instances, probes, realize, state, teardown
from neutrino.lab.status import status
from tests.lab.conftest import running_lab, small_lab, unique_name

pytestmark = pytest.mark.root


def _owned(name: str) -> tuple[list[str], list[str]]:
    with Netlink() as netlink:
        return (
            [ns for ns in netlink.list_netns() if ns.startswith(f"{name}-")],
            [link.name for link in netlink.links() if link.name.startswith(f"{name}-")],
        )


def test_default_lab_up_status_instances_down(lab_root):
    with running_lab(lab_root) as lab:
        doc = status(lab)
        assert doc["healthy"], doc
        by_name = {h["name"]: h for h in doc["hosts"]}
        assert "ovs" not in by_name["controller"]
        assert set(by_name["network"]["bridges"]) == {"br-int", "br-physnet1", "br-phy", "br-ex"}
        assert set(by_name["compute1"]["bridges"]) == {"br-int", "br-physnet1", "br-phy"}
        assert all(pid for pid in by_name["compute2"]["ovs"]["pids"].values())
        assert by_name["compute2"]["tunnel_addresses"] == ["172.31.0.3/24"]
        assert Ovsdb(lab.host("compute1").context).bridge("br-int").datapath_type == lab.host("compute1").datapath
        # the tunnel network joins the hosts' br-phy internal ports (docs/dataplane.md, "Tunnel endpoints")
        c1, c2 = lab.host("compute1"), lab.host("compute2")
        assert probes.ping(c1.netns, c2.tunnel_ip.split("/")[0]).ok
        assert probes.ping(lab.host("network").netns, c1.tunnel_ip.split("/")[0]).ok
        # the outside host sits on the external switch
        assert status(lab)["outside"]["addresses"] == ["198.51.100.1/24"]

        # two instances on compute1, same local VLAN: TCP and UDP through br-int
        vm1 = instances.create(lab, "vm1", host="compute1", mac="fa:16:3e:00:00:11", ip="10.0.0.11/24", tag=7)
        vm2 = instances.create(lab, "vm2", host="compute1", mac="fa:16:3e:00:00:12", ip="10.0.0.12/24", tag=7)
        vm3 = instances.create(lab, "vm3", host="compute1", mac="fa:16:3e:00:00:13", ip="10.0.0.13/24", tag=8)
        port = Ovsdb(c1.context).port(vm1.devices["qvo"])
        assert port.tag == 7 and port.bridge == "br-int"
        assert port.iface_external_ids == {
            "iface-id": vm1.port_id, "attached-mac": "fa:16:3e:00:00:11",
            "iface-status": "active", "vm-uuid": vm1.vm_uuid,
        }  # fmt: skip
        tcp = probes.transfer(vm1.netns, vm2.netns, "10.0.0.12")
        udp = probes.transfer(vm2.netns, vm1.netns, "10.0.0.11", udp=True, size=1200)
        assert tcp.ok, tcp
        assert udp.ok, udp
        # another local VLAN on the same br-int is another broadcast domain
        assert not probes.ping(vm1.netns, "10.0.0.13", count=2).ok
        with Netlink() as netlink:
            assert netlink.link(vm1.devices["qbr"], netns=c1.netns).kind == "bridge"
            assert netlink.link(vm1.devices["tap"], netns=c1.netns).master == vm1.devices["qbr"]
        assert [i.name for i in instances.list_(lab)] == ["vm1", "vm2", "vm3"]
        instances.delete(lab, "vm3")
        assert Ovsdb(c1.context).port(vm3.devices["qvo"]) is None
        with Netlink() as netlink:
            assert not netlink.netns_exists(vm3.netns)
            assert netlink.link(vm3.devices["qbr"], netns=c1.netns) is None
        pids = [p for h in lab.hosts if h.has_ovs for p in OvsInstance(h.context).pids().values()]
    assert _owned(lab.name) == ([], [])
    assert not lab.state_dir.exists()
    assert not any(daemons.alive(pid, "ovs") for pid in pids)


def test_up_is_idempotent_and_heals_a_killed_vswitchd(lab_root):
    with running_lab(lab_root, small_lab()) as lab:
        ctx = lab.host("compute1").context
        pid = OvsInstance(ctx).pids()["ovs-vswitchd"]
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while daemons.alive(pid, "ovs-vswitchd") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not status(lab)["healthy"]
        again = realize.up(small_lab(), name=lab.name, root=lab_root)
        assert status(again.lab)["healthy"]
        assert OvsInstance(ctx).pids()["ovs-vswitchd"] != pid
        assert set(Ovsdb(ctx).list_bridges()) == {"br-int", "br-physnet1", "br-phy"}


def test_down_removes_a_broken_lab(lab_root):
    name = unique_name()
    with running_lab(lab_root, small_lab(), name=name) as lab:
        instances.create(lab, "vm1", host="compute2", mac="fa:16:3e:00:00:21", ip="10.0.0.21/24")
        c1 = lab.host("compute1")
        os.kill(OvsInstance(c1.context).pids()["ovs-vswitchd"], signal.SIGKILL)
        os.kill(OvsInstance(lab.host("compute2").context).pids()["ovsdb-server"], signal.SIGKILL)
        with Netlink() as netlink:
            netlink.del_netns(c1.netns)  # half-deleted: its OVS daemons still run, hidden
        pids = [p for h in lab.hosts for p in OvsInstance(h.context).pids().values() if p]
        result = teardown.down(name, root=lab_root)
        assert result.namespaces and result.links and result.state_dir
    assert _owned(name) == ([], [])
    assert not any(daemons.alive(pid, "ovs") for pid in pids)
    assert teardown.down(name, root=lab_root).empty  # idempotent


def test_two_labs_side_by_side(lab_root):
    with running_lab(lab_root, small_lab()) as a, running_lab(lab_root, small_lab()) as b:
        assert sorted(state.labs(lab_root)) == sorted([a.name, b.name])
        for lab in (a, b):  # same addresses in both: nothing is shared
            instances.create(lab, "x", host="compute1", mac="fa:16:3e:00:00:31", ip="10.9.0.1/24", tag=3)
            instances.create(lab, "y", host="compute1", mac="fa:16:3e:00:00:32", ip="10.9.0.2/24", tag=3)
            check = probes.transfer(lab.vm_namespace("x"), lab.vm_namespace("y"), "10.9.0.2")
            assert check.ok, check
        teardown.down(a.name, root=lab_root)
        assert status(b)["healthy"] and _owned(a.name) == ([], [])
        assert probes.transfer(b.vm_namespace("y"), b.vm_namespace("x"), "10.9.0.1").ok


def test_up_refuses_a_different_file_under_the_same_name(lab_root):
    with running_lab(lab_root, small_lab()) as lab:
        with pytest.raises(realize.LabError, match="different lab file"):
            realize.up(small_lab(compute9={"roles": ["compute"]}), name=lab.name, root=lab_root)
