"""The DHCP and L3 agents in the lab, with real packets: leases (address, MTU, port updates),
DNS from the qdhcp namespace, SNAT and floating IPs seen from the outside, router interfaces
and an agent restart under an established TCP flow.

TCP with a verified digest (``probes.transfer``); the receiver reports the source address it
saw, which shows the NAT. Changes reach the dataplane asynchronously: every "after a change"
check polls with a short deadline."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from neutrino.dataplane import exec as programs
from neutrino.lab import demo, instances, probes
from tests.lab.cloud_support import cloud_lab, poll, programs_started

pytestmark = pytest.mark.root
T = TypeVar("T")
HANG_GUARD = 30.0
"""Not a timing assertion: only a bound that tells a hang from a slow machine."""


@pytest.fixture(scope="module")
def cl(lab_root):
    with cloud_lab(lab_root) as c:
        yield c


@pytest.fixture(scope="module")
def objs(cl):
    """demo's scenario: external flat network, VLAN and VXLAN networks on a router with a
    gateway, security group "ssh" (TCP 22 and ICMP)."""
    return demo._build(cl.api, cl.lab)


def _vm(cl, objs, name, net, host, *groups):  # type: ignore[no-untyped-def]
    vm = instances.create_from_api(cl.lab, name, network=objs[net]["id"] if net in objs else net, host=host,
                                   security_groups=("default", *groups))  # fmt: skip
    cl.wait_active([vm.port_id])
    return vm


@pytest.fixture(scope="module")
def vms(cl, objs):
    """va on the VLAN network (compute1, group ssh), vb on the VXLAN network (compute2)."""
    return {"a": _vm(cl, objs, "va", "vlan", "compute1", objs["sg"]["id"]), "b": _vm(cl, objs, "vb", "vxlan", "compute2")}


def _ip(vm: instances.Instance) -> str:
    return (vm.ip or "").split("/")[0]



def _poll(fn: Callable[[], T], done: Callable[[T], bool], timeout: float = 20.0, every: float = 0.2) -> T:
    return poll(fn, done, timeout, every)


def _fixed_ip(cl, port_id: str) -> str:  # type: ignore[no-untyped-def]
    return cl.api.request("GET", f"ports/{port_id}")["port"]["fixed_ips"][0]["ip_address"]  # type: ignore[no-any-return]


def _subnet_id(cl, network_id: str) -> str:  # type: ignore[no-untyped-def]
    return cl.api.request("GET", f"subnets?network_id={network_id}")["subnets"][0]["id"]  # type: ignore[no-any-return]


def _dhcp_port_ip(cl, network_id: str) -> str:  # type: ignore[no-untyped-def]
    def ports() -> list[dict[str, Any]]:
        found = cl.api.request("GET", f"ports?network_id={network_id}")["ports"]
        return [p for p in found if p["device_owner"] == "network:dhcp" and p["fixed_ips"]]

    found = _poll(ports, bool)
    assert found, f"network {network_id} has no DHCP port"
    return found[0]["fixed_ips"][0]["ip_address"]  # type: ignore[no-any-return]


def _renew(cl, name: str) -> instances.Instance:  # type: ignore[no-untyped-def]
    """A DHCP renewal; the instance as it was when no answer came (dnsmasq restarting, say)."""
    try:
        return instances.dhcp_lease(cl.lab, name, attempts=3)
    except instances.InstanceError:
        return instances.get(cl.lab, name)


def test_dhcp_lease_address_and_mtu(cl, objs):
    started = time.monotonic()
    vm = instances.create_from_api(cl.lab, "lease", network=objs["vxlan"]["id"], host="compute1")
    took = time.monotonic() - started
    want = _fixed_ip(cl, vm.port_id)
    assert _ip(vm) == want, f"leased {vm.ip}, port has {want} (lease took {took:.2f}s)"
    assert vm.mtu == 1450 == objs["vxlan"]["mtu"], f"MTU by DHCP {vm.mtu} (lease took {took:.2f}s)"
    assert vm.gateway == "10.0.2.1", f"router option {vm.gateway} (lease took {took:.2f}s)"
    assert took < HANG_GUARD, f"DHCP lease took {took:.2f}s"


def test_lease_follows_port_update(cl, objs, vms):
    vm = _vm(cl, objs, "moved", "vxlan", "compute1")
    subnet = _subnet_id(cl, objs["vxlan"]["id"])
    # an address no port of the network holds (the instances' own are random)
    new = cl.free_address(objs["vxlan"]["id"], "10.0.2.0/24", first=77)
    cl.api.request("PUT", f"ports/{vm.port_id}", {"port": {"fixed_ips": [{"subnet_id": subnet, "ip_address": new}]}})
    started = time.monotonic()
    vm = _poll(lambda: _renew(cl, "moved"), lambda v: _ip(v) == new)
    took = time.monotonic() - started
    assert _ip(vm) == new, f"still leased {vm.ip} {took:.1f}s after the port update"
    addrs = programs.run(["ip", "-4", "-o", "addr", "show", "dev", "eth0"], netns=vm.netns).stdout
    assert f"{new}/24" in addrs, addrs
    # the firewall follows too (anti-spoofing allows the new address): TCP both ways
    b = vms["b"]
    check = _poll(lambda: probes.transfer(vm.netns, b.netns, _ip(b), timeout=3), lambda c: c.ok)
    assert check.ok and check.peer == new, check
    check = probes.transfer(b.netns, vm.netns, new)
    assert check.ok, check


def test_dns_names_resolve_in_qdhcp_namespace(cl, objs, vms):
    b = vms["b"]
    net = objs["vxlan"]["id"]
    ns = cl.lab.host("network").context.namespace(f"qdhcp-{net}")
    server = _dhcp_port_ip(cl, net)
    name = "host-" + _ip(b).replace(".", "-") + ".openstacklocal"
    done = _poll(lambda: programs.run(["busybox", "nslookup", "-type=a", name, server], netns=ns, check=False, timeout=10),
                 lambda d: _ip(b) in d.stdout.split(name, 1)[-1], timeout=10)  # fmt: skip
    assert done.returncode == 0 and _ip(b) in done.stdout.split(name, 1)[-1], done.stdout + done.stderr
    reverse = programs.run(["busybox", "nslookup", _ip(b), server], netns=ns, check=False, timeout=10)
    assert name in reverse.stdout, reverse.stdout + reverse.stderr  # PTR gives the fqdn (addn_hosts order)
    # an unknown name is not invented (no upstream resolver: --no-resolv)
    missing = programs.run(["busybox", "nslookup", "-type=a", "host-10-9-9-9.openstacklocal", server], netns=ns, check=False, timeout=10)
    assert "10.9.9.9" not in missing.stdout, missing.stdout


def test_snat_and_floating_ip_tcp_both_ways(cl, objs, vms):
    a, b = vms["a"], vms["b"]
    outside = cl.lab.outside
    assert outside is not None
    outside_ip = outside.address.split("/")[0]
    gw_ip = demo.objs_gateway_ip(cl.api, objs["router"]["id"])
    # no floating IP: the outside sees the router's gateway address
    snat = _poll(lambda: probes.transfer(b.netns, outside.netns, outside_ip, timeout=3), lambda c: c.ok)
    assert snat.ok and snat.peer == gw_ip, f"{snat}; router gateway {gw_ip}"
    fip = cl.api.request("POST", "floatingips", {"floatingip": {
        "floating_network_id": objs["ext"]["id"], "port_id": a.port_id}})["floatingip"]  # fmt: skip
    addr = fip["floating_ip_address"]
    inbound = _poll(lambda: probes.transfer(outside.netns, a.netns, addr, port=22, timeout=3), lambda c: c.ok)
    assert inbound.ok and inbound.peer == outside_ip, inbound
    outbound = probes.transfer(a.netns, outside.netns, outside_ip)
    assert outbound.ok and outbound.peer == addr, f"{outbound}; floating IP {addr}"
    assert probes.ping(outside.netns, addr).ok
    blocked = probes.transfer(outside.netns, a.netns, addr, port=23, timeout=2)
    assert not blocked.ok, f"port 23 is not opened by any group: {blocked}"
    cl.api.request("DELETE", f"floatingips/{fip['id']}")
    cut = _poll(lambda: probes.transfer(outside.netns, a.netns, addr, port=22, timeout=2), lambda c: not c.ok)
    assert not cut.ok, f"{addr}:22 still reachable after the floating IP was deleted: {cut}"
    # and the instance falls back to the router's SNAT
    back = probes.transfer(a.netns, outside.netns, outside_ip)
    assert back.ok and back.peer == gw_ip, back


def test_router_interface_removal_cuts_routing(cl, objs, vms):
    b = vms["b"]
    net = cl.network("net-c", "10.0.3.0/24")
    subnet = _subnet_id(cl, net["id"])
    router = objs["router"]["id"]
    cl.api.request("PUT", f"routers/{router}/add_router_interface", {"subnet_id": subnet})
    c = _vm(cl, objs, "vc", net["id"], "compute2")
    assert c.gateway == "10.0.3.1"
    across = _poll(lambda: probes.transfer(b.netns, c.netns, _ip(c), timeout=3), lambda ch: ch.ok)
    assert across.ok and across.peer == _ip(b), across  # routed, not NATed
    back = probes.transfer(c.netns, b.netns, _ip(b))
    assert back.ok, back
    cl.api.request("PUT", f"routers/{router}/remove_router_interface", {"subnet_id": subnet})
    cut = _poll(lambda: probes.transfer(b.netns, c.netns, _ip(c), timeout=2), lambda ch: not ch.ok)
    assert not cut.ok, f"still routed after remove_router_interface: {cut}"
    assert not probes.ping(c.netns, _ip(b), count=2).ok


def test_agent_restart_keeps_established_flow(cl, vms):
    a, b = vms["a"], vms["b"]
    assert probes.transfer(a.netns, b.netns, _ip(b)).ok  # routed VLAN → VXLAN before anything
    result: dict[str, probes.Check] = {}
    flow = threading.Thread(target=lambda: result.setdefault(
        "check", probes.transfer(a.netns, b.netns, _ip(b), port=5002, duration=4.0)))  # fmt: skip
    flow.start()
    try:
        ss = ["ss", "-Htn", "state", "established", "dst", f"{_ip(b)}:5002"]
        est = _poll(lambda: programs.run(ss, netns=a.netns).stdout.strip(), bool, timeout=5, every=0.05)
        assert est, "the flow never established"
        cl.plane.stop_agent("network")
        agent = cl.plane.start_agent("network")
        with agent.converged:
            assert agent.converged.wait_for(lambda: agent.passes >= 1, timeout=HANG_GUARD), "no pass after restart"
    finally:
        flow.join(timeout=30)
    check = result.get("check")
    assert check is not None and check.ok, check
    assert check.detail.startswith("ok stream"), check
    # and new flows still go through the router
    assert probes.transfer(a.netns, b.netns, _ip(b)).ok


def test_a_steady_pass_starts_no_program(cl, vms):
    """With DHCP, a router with a gateway, instances and security groups in place, a pass of the
    network host's agent (DHCP, L3, L2) and of a compute's (L2, firewall) that finds nothing to
    change starts no program: no ``ip``, ``ethtool``, ``sysctl``, ``nft`` or ``conntrack``."""
    for host in ("network", "compute1"):
        cl.plane.agents[host].reconcile_once()  # settle what the earlier tests changed
    with programs_started() as started:
        for host in ("network", "compute1"):
            result = cl.plane.agents[host].reconcile_once()
            assert (result.ovsdb_commands, result.wired, result.unwired) == (0, [], []), host
    print(f"programs started by two steady passes (OVS): {started}")
    assert not {"ip", "ethtool", "sysctl", "nft", "conntrack", "ovs-ofctl"} & set(started), started


def _dnsmasq_argv(cl, network_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The running dnsmasq's command line for ``network_id`` on the network host (by its pidfile)."""
    try:
        pid = (cl.lab.state_dir / "network" / "dhcp" / network_id / "pid").read_text().strip()
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except (OSError, ValueError):
        return []


def test_ipv6_slaac(cl, objs):
    prefix = "2001:db8:6::"
    net = cl.network("v6", "10.0.6.0/24")
    cl.api.request("POST", "subnets", {"subnet": {"network_id": net["id"], "cidr": f"{prefix}/64", "ip_version": 6,
                   "ipv6_ra_mode": "slaac", "ipv6_address_mode": "slaac"}})  # fmt: skip
    argv = _poll(lambda: _dnsmasq_argv(cl, net["id"]), lambda a: "--enable-ra" in a)
    assert "--enable-ra" in argv, argv
    # without a range for the slaac subnet dnsmasq advertises no prefix and sends no RA: a failure
    # (the lab's instances start with IPv6 disabled; this test re-enables it below)
    assert any(a.startswith("--dhcp-range=") and prefix in a and "ra-only" in a for a in argv), argv
    vm = _vm(cl, objs, "six", net["id"], "compute1")
    want = next(f["ip_address"] for f in cl.api.request("GET", f"ports/{vm.port_id}")["port"]["fixed_ips"] if ":" in f["ip_address"])
    for key in ("all", "default", "eth0"):
        programs.run(["sysctl", "-qw", f"net.ipv6.conf.{key}.disable_ipv6=0"], netns=vm.netns)
    show = ["ip", "-6", "-o", "addr", "show", "dev", "eth0", "scope", "global"]
    got = _poll(lambda: programs.run(show, netns=vm.netns).stdout, lambda o: want in o and "tentative" not in o)
    assert want in got and "tentative" not in got, f"SLAAC address {want} not configured: {got!r}"
    server = next(f["ip_address"] for p in cl.api.request("GET", f"ports?network_id={net['id']}")["ports"]
                  if p["device_owner"] == "network:dhcp" for f in p["fixed_ips"] if ":" in f["ip_address"])  # fmt: skip
    assert probes.ping(vm.netns, server).ok  # IPv6 on the wire


def test_port_forwarding_tcp_and_udp(cl, objs):
    """floating IP port forwarding: the outside reaches floating_ip:2222/tcp and :2223/udp at the
    instance's 8080/tcp and 5353/udp (DNAT in the qrouter namespace, source kept); removing a
    forwarding cuts its port only."""
    sg = cl.api.request("POST", "security-groups", {"security_group": {"name": "pf"}})["security_group"]
    for proto, port in (("tcp", 8080), ("udp", 5353)):
        cl.api.request("POST", "security-group-rules", {"security_group_rule": {
            "security_group_id": sg["id"], "direction": "ingress", "protocol": proto,
            "port_range_min": port, "port_range_max": port}})  # fmt: skip
    vm = _vm(cl, objs, "vpf", "vxlan", "compute1", sg["id"])
    outside = cl.lab.outside
    assert outside is not None
    outside_ip = outside.address.split("/")[0]
    fip = cl.api.request("POST", "floatingips", {"floatingip": {"floating_network_id": objs["ext"]["id"]}})["floatingip"]
    addr, url = fip["floating_ip_address"], f"floatingips/{fip['id']}/port_forwardings"
    made = {}
    for proto, external, internal in (("tcp", 2222, 8080), ("udp", 2223, 5353)):
        made[proto] = cl.api.request("POST", url, {"port_forwarding": {
            "protocol": proto, "internal_port_id": vm.port_id, "internal_ip_address": _ip(vm),
            "internal_port": internal, "external_port": external}})["port_forwarding"]  # fmt: skip
    tcp = _poll(lambda: probes.transfer(outside.netns, vm.netns, addr, port=2222, serve_port=8080, timeout=3),
                lambda c: c.ok)  # fmt: skip
    assert tcp.ok and tcp.peer == outside_ip, tcp
    udp = _poll(lambda: probes.transfer(outside.netns, vm.netns, addr, port=2223, serve_port=5353, udp=True, timeout=3),
                lambda c: c.ok)  # fmt: skip
    assert udp.ok and udp.peer == outside_ip, udp
    assert not probes.transfer(outside.netns, vm.netns, addr, port=8080, timeout=2).ok  # only the forwarded port
    cl.api.request("DELETE", f"{url}/{made['tcp']['id']}")
    cut = _poll(lambda: probes.transfer(outside.netns, vm.netns, addr, port=2222, serve_port=8080, timeout=2),
                lambda c: not c.ok)  # fmt: skip
    assert not cut.ok, f"{addr}:2222 still forwarded after its forwarding was deleted: {cut}"
    still = probes.transfer(outside.netns, vm.netns, addr, port=2223, serve_port=5353, udp=True, timeout=3)
    assert still.ok, still
    cl.api.request("DELETE", f"{url}/{made['udp']['id']}")
    cl.api.request("DELETE", f"floatingips/{fip['id']}")


def _qrouter(cl, router_id: str) -> str:  # type: ignore[no-untyped-def]
    """The namespace of the router on whichever host's L3 agent holds it."""
    names = [h.context.namespace(f"qrouter-{router_id}") for h in cl.lab.hosts]
    found = _poll(lambda: [n for n in names if programs.run(["ip", "netns", "pids", n], check=False).returncode == 0],
                  bool)  # fmt: skip
    assert found, f"no qrouter namespace for {router_id}"
    return found[0]  # type: ignore[no-any-return]


def _helpers_seen(ns: str, port: int) -> list[str]:
    listed = programs.run(["conntrack", "-L", "-p", "tcp", "--dport", str(port)], netns=ns, check=False).stdout
    return [line for line in listed.splitlines() if "helper=" in line]


def test_conntrack_helper_on_router_connections(cl, objs, vms):
    """l3-conntrack-helper: with an ftp helper on tcp/21, a TCP connection an instance opens to
    the outside's port 21 through the router gets the ftp helper in the router's conntrack
    table; a connection to another port does not, nor one after the helper is deleted."""
    b, outside = vms["b"], cl.lab.outside
    assert outside is not None
    outside_ip = outside.address.split("/")[0]
    rid = objs["router"]["id"]
    ns = _qrouter(cl, rid)
    cth = cl.api.request("POST", f"routers/{rid}/conntrack_helpers", {"conntrack_helper": {
        "protocol": "tcp", "port": 21, "helper": "ftp"}})["conntrack_helper"]  # fmt: skip
    _poll(lambda: programs.run(["nft", "list", "table", "inet", "neutrino-cthelper"], netns=ns, check=False).returncode,
          lambda rc: rc == 0)  # fmt: skip
    ftp = probes.transfer(b.netns, outside.netns, outside_ip, port=21, timeout=5)
    assert ftp.ok, ftp
    seen = _helpers_seen(ns, 21)
    assert seen and "helper=ftp" in seen[0], seen
    print(f"conntrack in the router: {seen[0]}")
    other = probes.transfer(b.netns, outside.netns, outside_ip, port=2121, timeout=5)
    assert other.ok and not _helpers_seen(ns, 2121), _helpers_seen(ns, 2121)
    cl.api.request("DELETE", f"routers/{rid}/conntrack_helpers/{cth['id']}")
    gone = _poll(lambda: programs.run(["nft", "list", "table", "inet", "neutrino-cthelper"], netns=ns, check=False).returncode,
                 lambda rc: rc != 0)  # fmt: skip
    assert gone != 0, "the helper table stayed after the last helper was deleted"
    programs.run(["conntrack", "-D", "-p", "tcp", "--dport", "21"], netns=ns, check=False)
    again = probes.transfer(b.netns, outside.netns, outside_ip, port=21, timeout=5)
    assert again.ok and not _helpers_seen(ns, 21), _helpers_seen(ns, 21)
