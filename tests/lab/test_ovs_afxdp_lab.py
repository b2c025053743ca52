"""A lab whose OVS ports are AF_XDP (``defaults.ovs_port_type: afxdp``): the instances' qvo and
the hosts' wires are ``afxdp-nonpmd`` Interfaces, read by vswitchd through XDP sockets instead of
packet sockets (docs/dataplane.md, "AF_XDP ports"). Real TCP on a VLAN network (tags on an AF_XDP
wire) and a VXLAN network between two computes, and a vswitchd killed and started again."""

from __future__ import annotations

import os
import signal
import time

import pytest

from neutrino.agent.l2.ovs_port_types import AFXDP
from neutrino.dataplane import daemons
from neutrino.dataplane.offloads import HostOffloads
from neutrino.dataplane.ovs import OvsInstance
from neutrino.dataplane.ovsdb import Ovsdb
from neutrino.lab import probes, topology
from tests.lab.cloud_support import cloud_lab, ip_of

pytestmark = pytest.mark.root


def afxdp_lab() -> topology.LabFile:
    seed = topology.default_lab()
    return seed.model_copy(update={"defaults": seed.defaults.model_copy(update={"ovs_port_type": topology.OvsPortType.afxdp})})


@pytest.fixture(scope="module")
def cl(lab_root):
    with cloud_lab(lab_root, afxdp_lab()) as c:
        if AFXDP not in HostOffloads(c.lab.host("compute1").context).iface_types():
            pytest.skip(f"this ovs-vswitchd has no {AFXDP} ports (built without AF_XDP): the lab plugged AF_PACKET")
        yield c


def test_instances_and_wires_are_af_xdp_and_carry_tcp_on_vlan_and_vxlan(cl):
    vlan = cl.network("ax-vlan", "10.83.0.0/24", **{"provider:network_type": "vlan",
                      "provider:physical_network": "physnet1", "provider:segmentation_id": 183})  # fmt: skip
    vx = cl.network("ax-vx", "10.84.0.0/24")
    for tag, net in (("al", vlan), ("ax", vx)):
        a, b = cl.vm(f"{tag}a", net["id"], "compute1"), cl.vm(f"{tag}b", net["id"], "compute2")
        for vm in (a, b):
            port = Ovsdb(cl.lab.host(vm.host).context).port(vm.devices["qvo"])
            assert port is not None and (port.iface_type, port.iface_options) == (AFXDP, {"xdp-mode": "generic"})
            assert port.tag not in (None, 4095)
        check = probes.transfer(a.netns, b.netns, ip_of(b), size=256 << 10)
        assert check.ok, check
    wires = {p.name: p.iface_type for p in Ovsdb(cl.lab.host("compute1").context).find_ports()
             if p.bridge in ("br-phy", "br-physnet1") and p.iface_type not in ("internal", "patch")}  # fmt: skip
    assert wires == {"eth1": AFXDP, "eth2": AFXDP}, wires


def test_a_killed_vswitchd_takes_its_af_xdp_ports_back_when_started_again(cl):
    net = cl.network("ax-kill", "10.85.0.0/24")
    a, b = cl.vm("aka", net["id"], "compute1"), cl.vm("akb", net["id"], "compute2")
    assert probes.transfer(a.netns, b.netns, ip_of(b)).ok
    ovs = OvsInstance(cl.lab.host("compute2").context)
    pid = ovs.pids()["ovs-vswitchd"]
    os.kill(pid, signal.SIGKILL)  # its XDP programs stay on the devices, with nobody reading their sockets
    deadline = time.monotonic() + 10
    while daemons.alive(pid, "ovs-vswitchd"):
        assert time.monotonic() < deadline, "the killed ovs-vswitchd did not exit"
        time.sleep(0.02)
    ovs.start()  # as systemd would; it replaces the programs, and the agent rewrites its flows
    deadline = time.monotonic() + 30
    while not probes.ping(a.netns, ip_of(b), count=2).ok:
        assert time.monotonic() < deadline, "traffic did not resume after the vswitchd restart"
    check = probes.transfer(a.netns, b.netns, ip_of(b))
    assert check.ok, check
    assert Ovsdb(cl.lab.host("compute2").context).port(b.devices["qvo"]).iface_type == AFXDP
