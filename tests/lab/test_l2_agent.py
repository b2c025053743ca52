"""The OVS L2 agent in the lab: networks created through the API are wired across hosts.

Real packets: TCP with a verified digest (ping alone would not catch a checksum problem, docs/dataplane.md),
captures on the lab's physical switch and tunnel network."""

from __future__ import annotations

import pytest

from neutrino.dataplane.ovs import OvsInstance
from neutrino.dataplane.ovsdb import Ovsdb
from neutrino.lab import probes
from tests.lab.cloud_support import cloud_lab, ip_of, restart_agent_under_a_stream

pytestmark = pytest.mark.root


@pytest.fixture(scope="module")
def cl(lab_root):
    with cloud_lab(lab_root) as c:
        yield c


def test_agents_registered(cl):
    agents = cl.api.request("GET", "agents")["agents"]
    assert sorted((a["host"], a["agent_type"]) for a in agents) == [
        ("compute1", "Open vSwitch agent"), ("compute2", "Open vSwitch agent"), ("network", "DHCP agent"),
        ("network", "L3 agent"), ("network", "Open vSwitch agent"),
    ]  # fmt: skip
    c1 = next(a for a in agents if a["host"] == "compute1")
    assert c1["alive"] and c1["configurations"]["bridge_mappings"] == {"physnet1": "br-physnet1"}
    assert c1["configurations"]["tunneling_ip"] == "172.31.0.2"


def test_vlan_network_across_hosts(cl):
    net = cl.network("vlan100", "10.1.0.0/24", **{"provider:network_type": "vlan",
                     "provider:physical_network": "physnet1", "provider:segmentation_id": 100})  # fmt: skip
    a = cl.vm("va", net["id"], "compute1")
    b = cl.vm("vb", net["id"], "compute2")
    sw = cl.lab.switches[0].name
    with probes.Capture(sw, "vlan and icmp", count=4) as cap:
        assert probes.ping(a.netns, ip_of(b)).ok
    assert cap.lines and all("vlan 100," in line for line in cap.lines), cap.lines
    check = probes.transfer(a.netns, b.netns, ip_of(b))
    assert check.ok, check
    # br-int carries the local VLAN, not the tenant's VID
    tag = Ovsdb(cl.lab.host("compute1").context).port(a.devices["qvo"]).tag
    assert tag not in (None, 100, 4095)


def test_vxlan_network_across_hosts_and_isolation_from_vlan(cl):
    net = cl.network("vx", "10.2.0.0/24")
    assert net["provider:network_type"] == "vxlan" and net["mtu"] == 1450
    a = cl.vm("xa", net["id"], "compute1", fixed_ip="10.2.0.11")
    b = cl.vm("xb", net["id"], "compute2", fixed_ip="10.2.0.12")
    assert a.mtu == 1450
    with probes.Capture(cl.lab.switches[1].name, "udp port 4789", count=4) as cap:
        check = probes.transfer(a.netns, b.netns, ip_of(b), size=64 << 10)
    assert check.ok, check
    vni = net["provider:segmentation_id"]
    assert any(f"vni {vni}" in line for line in cap.lines), cap.lines
    # same CIDR on a VLAN network, VMs on the same hosts: no traffic crosses
    other = cl.network("vlan-same-cidr", "10.2.0.0/24", **{"provider:network_type": "vlan",
                       "provider:physical_network": "physnet1"})  # fmt: skip
    # fixed addresses, so that c cannot hold a's or b's and "reach" itself
    c = cl.vm("vc", other["id"], "compute2", fixed_ip="10.2.0.21")
    assert not probes.ping(a.netns, ip_of(c), count=2).ok
    assert not probes.transfer(c.netns, b.netns, ip_of(b), timeout=2).ok


def test_two_projects_same_cidr(cl):
    nets = []
    for project in ("proj-a", "proj-b"):
        net = cl.api.request("POST", "networks", {"network": {"name": f"n-{project}", "project_id": project}})["network"]
        cl.api.request("POST", "subnets", {"subnet": {"network_id": net["id"], "cidr": "10.7.0.0/24",
                                                      "ip_version": 4, "project_id": project}})  # fmt: skip
        nets.append(net)
    # Fixed addresses: with random allocation b1 could hold a1's address and "reach" itself.
    a1 = cl.vm("pa1", nets[0]["id"], "compute1", fixed_ip="10.7.0.11")
    a2 = cl.vm("pa2", nets[0]["id"], "compute2", fixed_ip="10.7.0.12")
    b1 = cl.vm("pb1", nets[1]["id"], "compute2", fixed_ip="10.7.0.21")
    assert probes.transfer(a1.netns, a2.netns, ip_of(a2)).ok
    assert not probes.ping(b1.netns, ip_of(a1), count=2).ok
    assert not probes.ping(b1.netns, ip_of(a2), count=2).ok


def test_agent_restart_keeps_tags_and_a_running_tcp_stream(cl):
    net = cl.network("restart", "10.3.0.0/24")
    a = cl.vm("ra", net["id"], "compute1")
    b = cl.vm("rb", net["id"], "compute2")
    ovsdb = Ovsdb(cl.lab.host("compute1").context)
    tags_before = {p.name: p.tag for p in ovsdb.find_ports() if p.name.startswith("qvo")}

    restart_agent_under_a_stream(cl, a, b)
    assert {p.name: p.tag for p in ovsdb.find_ports() if p.name.startswith("qvo")} == tags_before


def test_vswitchd_killed_and_restarted_flows_come_back(cl):
    net = cl.network("kill", "10.4.0.0/24")
    a = cl.vm("ka", net["id"], "compute1")
    b = cl.vm("kb", net["id"], "compute2")
    assert probes.transfer(a.netns, b.netns, ip_of(b)).ok
    ovs = OvsInstance(cl.lab.host("compute2").context)
    import os
    import signal
    import time

    from neutrino.dataplane import daemons

    pid = ovs.pids()["ovs-vswitchd"]
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while daemons.alive(pid, "ovs-vswitchd"):  # gone before it is started again
        assert time.monotonic() < deadline, "the killed ovs-vswitchd did not exit"
        time.sleep(0.02)
    ovs.start()  # as systemd would restart it; the agent notices and resyncs its flows
    deadline = time.monotonic() + 15
    while not probes.ping(a.netns, ip_of(b), count=2).ok:
        assert time.monotonic() < deadline, "traffic did not resume after the vswitchd restart"
    assert probes.transfer(a.netns, b.netns, ip_of(b)).ok
    from neutrino.dataplane.openflow import OpenFlow

    assert any("table=23" in f for f in OpenFlow(cl.lab.host("compute2").context).dump("br-int"))  # the canary
