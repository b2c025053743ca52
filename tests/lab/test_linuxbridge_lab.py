"""The linuxbridge mechanism in a mixed lab, with real TCP: one module-scoped lab where the
network node and compute1/compute2 run the Linux bridge agent (brq bridges, kernel VXLAN with
l2population) and compute3 runs Open vSwitch, all on one VXLAN network (UDP 4789, one VNI).

docs/dataplane.md, "The linuxbridge mechanism": what each check relies on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from neutrino.dataplane import exec as programs
from neutrino.dataplane.openflow import OpenFlow
from neutrino.lab import probes, topology
from tests.lab.cloud_support import cloud_lab, ip_of, poll, programs_started

pytestmark = pytest.mark.root

QUICK = 2.0


def mixed_lab() -> topology.LabFile:
    lb = {"mechanism": "linuxbridge"}
    return topology.parse({
        "hosts": {
            "controller": {"roles": ["controller"]},
            "network": {"roles": ["network"], **lb},
            "compute1": {"roles": ["compute"], **lb},
            "compute2": {"roles": ["compute"], **lb},
            "compute3": {"roles": ["compute"]},
        },
    })  # fmt: skip


@pytest.fixture(scope="module")
def cl(lab_root):
    with cloud_lab(lab_root, mixed_lab()) as c:
        yield c


@pytest.fixture(scope="module")
def nets(cl):
    vx = cl.network("lb-vx", "10.70.0.0/24", **{"provider:network_type": "vxlan"})
    other = cl.network("lb-vx2", "10.71.0.0/24", **{"provider:network_type": "vxlan"})
    flat = cl.network("lb-flat", "10.72.0.0/24", **{"provider:network_type": "flat", "provider:physical_network": "physnet1"})
    router = cl.api.request("POST", "routers", {"router": {"name": "lb-r"}})["router"]
    for net in (vx, other):
        sub = cl.api.request("GET", f"subnets?network_id={net['id']}")["subnets"][0]
        cl.api.request("PUT", f"routers/{router['id']}/add_router_interface", {"subnet_id": sub["id"]})
    return {"vx": vx, "other": other, "flat": flat, "router": router}


def _tcp(src, dst, port=5001, timeout=QUICK):  # type: ignore[no-untyped-def]
    return probes.transfer(src.netns, dst.netns, ip_of(dst), port=port, size=256 << 10, timeout=timeout)


def _until(probe, ok=True, timeout=10.0):  # type: ignore[no-untyped-def]
    check = poll(probe, lambda c: c.ok == ok, timeout=timeout)
    assert check.ok == ok, check
    return check


def test_vxlan_across_linuxbridge_hosts_with_dhcp_and_l2population(cl, nets):
    a = cl.vm("va", nets["vx"]["id"], "compute1")
    b = cl.vm("vb", nets["vx"]["id"], "compute2")
    assert a.ip and b.ip and a.mtu == 1450  # leases from dnsmasq on the Linux bridge network node
    assert "qbr" not in a.devices  # the tap sits on the brq bridge directly
    _until(lambda: _tcp(a, b))
    host = cl.lab.host("compute1").netns
    vni = cl.api.request("GET", f"networks/{nets['vx']['id']}")["network"]["provider:segmentation_id"]
    fdb = programs.run(["bridge", "fdb", "show", "dev", f"vxlan-{vni}"], netns=host).stdout
    assert f"{b.mac} dst " in fdb and "00:00:00:00:00:00 dst" in fdb
    # the ARP proxy is on even with OVS hosts in the cloud: they answer ARP for remote ports on
    # br-tun, so no ARP reply has to cross the tunnel (docs/dataplane.md, "ARP responder")
    details = programs.run(["ip", "-d", "link", "show", f"vxlan-{vni}"], netns=host).stdout
    assert "nolearning proxy" in details
    neigh = programs.run(["ip", "neigh", "show", "dev", f"vxlan-{vni}"], netns=host).stdout
    assert f"{b.ip.split('/')[0]} lladdr {b.mac} PERMANENT" in neigh, neigh


def test_flat_network_on_the_mapped_interface(cl, nets):
    a = cl.vm("fa", nets["flat"]["id"], "compute1")
    b = cl.vm("fb", nets["flat"]["id"], "compute2")
    _until(lambda: _tcp(a, b))
    master = programs.run(["ip", "-o", "link", "show", "eth1"], netns=cl.lab.host("compute1").netns).stdout
    assert f"master brq{nets['flat']['id'][:11]}" in master


def test_mixed_cloud_linuxbridge_and_ovs_on_one_vxlan_network_and_the_router(cl, nets):
    lb = cl.vm("ma", nets["vx"]["id"], "compute1")
    ovs = cl.vm("mo", nets["vx"]["id"], "compute3")
    assert "qvo" in ovs.devices
    _until(lambda: _tcp(lb, ovs))
    assert _tcp(ovs, lb).ok
    far = cl.vm("mf", nets["other"]["id"], "compute2")
    _until(lambda: _tcp(ovs, far))  # OVS host → router on the Linux bridge network node → Linux bridge host
    assert _tcp(lb, far).ok and probes.ping(lb.netns, lb.gateway or "", count=2).ok
    # the OVS host answered its instance's ARP for the Linux bridge instance on br-tun (table 21)
    answered = [f for f in OpenFlow(cl.lab.host("compute3").context).dump("br-tun")
                if "table=21" in f and f"arp_tpa={lb.ip.split('/')[0]}" in f]
    assert answered and "n_packets=0," not in answered[0], answered


def test_agent_restart_changes_nothing_and_keeps_traffic(cl, nets):
    a = cl.vm("ra", nets["vx"]["id"], "compute1")
    b = cl.vm("rb", nets["vx"]["id"], "compute2")
    _until(lambda: _tcp(a, b))
    host = cl.lab.host("compute1").netns

    def snapshot() -> tuple[list[tuple[str, str]], list[str]]:
        import json

        links = json.loads(programs.run(["ip", "-j", "link", "show"], netns=host).stdout)
        fdb = programs.run(["bridge", "fdb", "show"], netns=host).stdout.splitlines()
        return (sorted((link["ifname"], link.get("master", "")) for link in links),
                sorted(line for line in fdb if "permanent" in line and "dst" in line))  # fmt: skip

    before = snapshot()
    stream = probes.transfer  # a transfer that spans the restart
    import threading

    result: list[probes.Check] = []
    t = threading.Thread(target=lambda: result.append(stream(a.netns, b.netns, ip_of(b), port=5002, size=None,
                                                             duration=4.0, timeout=15)))  # fmt: skip
    t.start()
    time.sleep(0.5)
    cl.plane.stop_agent("compute1")
    cl.plane.start_agent("compute1")
    agent = cl.plane.agents["compute1"]
    with agent.converged:
        agent.converged.wait_for(lambda: agent.passes >= 1, timeout=20)
    t.join(timeout=20)
    assert result and result[0].ok, result
    assert agent.last_result is not None and agent.last_result.ovsdb_commands == 0
    assert snapshot() == before


def test_spoofed_address_and_mac_are_dropped(cl, nets):
    a = cl.vm("sa", nets["vx"]["id"], "compute1")
    b = cl.vm("sb", nets["vx"]["id"], "compute2")
    _until(lambda: _tcp(a, b))
    spoofed_ip = cl.free_address(nets["vx"]["id"], "10.70.0.0/24", first=250)  # no instance's (random) address
    programs.run(["ip", "addr", "add", f"{spoofed_ip}/24", "dev", "eth0"], netns=a.netns)
    spoofed = programs.run(["ping", "-I", spoofed_ip, "-c", "2", "-i", "0.2", "-W", "1", ip_of(b)], netns=a.netns, check=False)
    assert spoofed.returncode != 0
    programs.run(["ip", "link", "set", "eth0", "address", "fa:16:3e:aa:bb:cc"], netns=a.netns)
    try:
        assert not _tcp(a, b).ok
    finally:
        programs.run(["ip", "link", "set", "eth0", "address", a.mac], netns=a.netns)
    _until(lambda: _tcp(a, b))


PINNED_CLIENT = """\
import hashlib, socket, sys, time
dst, port, src, sport = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((src, sport))
s.settimeout(5)
s.connect((dst, port))
digest = hashlib.sha256()
for i in range(40):  # about 2 s of traffic, so that both streams overlap
    chunk = bytes([i]) * 16384
    s.sendall(chunk)
    digest.update(chunk)
    time.sleep(0.05)
s.shutdown(socket.SHUT_WR)
answer = b"".join(iter(lambda: s.recv(128), b"")).decode()
sys.exit(answer != digest.hexdigest())
"""


def _serve(vm, port, timeout=15.0):  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    argv = [sys.executable, "-m", "neutrino.tools.tcpcheck", "serve", "--port", str(port), "--timeout", str(timeout)]
    server = subprocess.Popen(programs.netns_argv(argv, vm.netns), stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None and server.stdout.readline().strip() == "ready"
    return server


def test_two_networks_with_the_same_addresses_on_one_host_never_share_conntrack(cl):
    """Two projects, one CIDR, the same addresses, the same TCP 5-tuple at the same time on the
    same hosts: each network has its own conntrack zone, so both connections live."""
    import subprocess
    import sys

    pairs = []
    for project in ("proj-a", "proj-b"):
        net = cl.api.request("POST", "networks", {"network": {"name": f"same-{project}", "project_id": project,
                                                               "provider:network_type": "vxlan"}})["network"]  # fmt: skip
        cl.api.request("POST", "subnets", {"subnet": {"network_id": net["id"], "cidr": "10.90.0.0/24", "ip_version": 4,
                                                      "project_id": project}})  # fmt: skip
        tag = project[-1]
        srv = cl.vm(f"z{tag}s", net["id"], "compute1", fixed_ip="10.90.0.10")
        cli = cl.vm(f"z{tag}c", net["id"], "compute2", fixed_ip="10.90.0.20")
        pairs.append((net, srv, cli))
    for _net, srv, cli in pairs:
        _until(lambda srv=srv, cli=cli: _tcp(cli, srv))
    servers = [_serve(srv, 7000) for _n, srv, _c in pairs]
    try:
        clients = [subprocess.Popen(programs.netns_argv([sys.executable, "-c", PINNED_CLIENT, "10.90.0.10", "7000",
                                                         "10.90.0.20", "40000"], cli.netns))  # fmt: skip
                   for _n, _s, cli in pairs]
        time.sleep(1.0)
        listed = programs.run(["conntrack", "-L", "-p", "tcp", "--dport", "7000"], netns=cl.lab.host("compute1").netns,
                              check=False).stdout  # fmt: skip
        codes = [c.wait(timeout=20) for c in clients]
    finally:
        for s in servers:
            s.kill()
            s.wait(timeout=5)
    assert codes == [0, 0], codes
    zones = {w for line in listed.splitlines() if "sport=40000" in line for w in line.split() if w.startswith("zone=")}
    assert len(zones) == 2, listed


def test_a_steady_pass_starts_no_program(cl, nets):
    """A Linux bridge host's pass (L2 with its VXLAN FDB and neighbour reads, firewall; DHCP and
    L3 on the network host) that finds nothing to change starts no program."""
    cl.vm("vs", nets["vx"]["id"], "compute1")
    for host in ("network", "compute1"):
        cl.plane.agents[host].reconcile_once()
    with programs_started() as started:
        for host in ("network", "compute1"):
            result = cl.plane.agents[host].reconcile_once()
            assert (result.ovsdb_commands, result.wired, result.unwired) == (0, [], []), host
    print(f"programs started by two steady passes (Linux bridge): {started}")
    assert started == {}, started


def test_a_rule_removed_cuts_an_established_connection(cl, nets):
    web = cl.api.request("POST", "security-groups", {"security_group": {"name": "lb-web"}})["security_group"]
    rule = cl.api.request("POST", "security-group-rules", {"security_group_rule": {
        "security_group_id": web["id"], "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
        "port_range_min": 7100, "port_range_max": 7100, "remote_ip_prefix": "0.0.0.0/0"}})["security_group_rule"]  # fmt: skip
    srv = cl.vm("cs", nets["vx"]["id"], "compute1", security_groups=(web["id"],))
    cli = cl.vm("cc", nets["vx"]["id"], "compute2")
    _cut_while_streaming(cli, srv, 7100, lambda: cl.api.request("DELETE", f"security-group-rules/{rule['id']}"))


def _cut_while_streaming(cli: Any, srv: Any, port: int, cut: Callable[[], Any]) -> None:
    """A TCP stream from ``cli`` to ``srv``'s ``port`` is established, then ``cut()`` runs: the
    stream must break, and a new connection be refused."""
    import threading

    from tests.lab.cloud_support import wait_established

    _until(lambda: _tcp(cli, srv, port=port))
    result: list[probes.Check] = []
    t = threading.Thread(target=lambda: result.append(probes.transfer(cli.netns, srv.netns, ip_of(srv), port=port,
                                                                      duration=8.0, timeout=4)))  # fmt: skip
    t.start()
    wait_established(cli.netns, ip_of(srv), port)
    time.sleep(0.5)
    cut()
    t.join(timeout=30)
    assert result and not result[0].ok, result
    assert not _tcp(cli, srv, port=port).ok


def test_a_member_leaving_a_remote_group_loses_its_established_connection(cl, nets):
    """The server admits TCP 7102 from the members of a remote group; its client leaves that
    group (its port's groups changed): the server's host deletes the client's conntrack entries
    (agent/firewall/members.py), so the open connection is cut, as a removed rule's would be."""
    peers = cl.api.request("POST", "security-groups", {"security_group": {"name": "lb-peers"}})["security_group"]
    web = cl.api.request("POST", "security-groups", {"security_group": {"name": "lb-web-peers"}})["security_group"]
    cl.api.request("POST", "security-group-rules", {"security_group_rule": {
        "security_group_id": web["id"], "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
        "port_range_min": 7102, "port_range_max": 7102, "remote_group_id": peers["id"]}})  # fmt: skip
    srv = cl.vm("cms", nets["vx"]["id"], "compute1", security_groups=(web["id"],))
    cli = cl.vm("cmc", nets["vx"]["id"], "compute2", security_groups=(peers["id"],))
    query = f"security-groups?name=default&project_id={nets['vx']['project_id']}"
    default = cl.api.request("GET", query)["security_groups"][0]["id"]
    _cut_while_streaming(cli, srv, 7102,
                         lambda: cl.api.request("PUT", f"ports/{cli.port_id}", {"port": {"security_groups": [default]}}))


def test_a_rogue_dhcp_server_is_not_heard(cl, nets):
    """DHCP replies reach an instance only from its network's DHCP port on the brq bridges'
    firewall too: a dnsmasq in an instance without port security is not heard by its
    neighbour on the same bridge (tests/lab/test_dhcp_ha_lab.py does it on the OVS hybrid plug)."""
    from neutrino.dataplane.naming import TAP
    from tests.lab.test_dhcp_ha_lab import rogue_dhcp_not_heard

    # by id: another test of this module may have made a second project's "default" group
    query = f"security-groups?name=default&project_id={nets['vx']['project_id']}"
    default = cl.api.request("GET", query)["security_groups"][0]["id"]
    victim = cl.vm("lb-dv", nets["vx"]["id"], "compute1", security_groups=(default,))
    rogue = cl.vm("lb-rogue", nets["vx"]["id"], "compute1", security_groups=(default,))
    rogue_dhcp_not_heard(cl, rogue, victim, rogue.devices[TAP])
