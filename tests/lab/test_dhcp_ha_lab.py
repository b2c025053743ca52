"""Two DHCP agents per network really serving, and DHCP replies heard only from them
(examples/two-network-nodes.yaml, ``dhcp_agents_per_network`` 2).

The lab runs as ``lab up`` runs it: the server on the controller, one agent process per host.
Both network nodes serve the network: one DHCP port each (device_id ``dhcp<host uuid>-<net>``),
each dnsmasq with the same host lines, and both servers' addresses handed out as DNS servers.

A rogue DHCP server (dnsmasq in an instance whose port has port security off) answers a
discovery on the network: its replies reach the other instance's bridge but never its NIC,
while the real servers' answer is heard. Then the network node whose dnsmasq gave an instance
its lease dies (its agent process stopped, its dnsmasq killed, both by pid): the instance's
running udhcpc renews by unicast to the dead server, gets no answer, rebinds by broadcast,
and the other server acknowledges the same address. A fresh discovery is answered too, and
TCP and UDP flow afterwards. Times from the kill are printed, never asserted (the lease is
dnsmasq's shortest, 120 s: udhcpc renews at half of it and rebinds once 30 s or less remain).
"""

from __future__ import annotations

import ipaddress
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from neutrino.dataplane import exec as programs
from neutrino.dataplane.naming import QBR, TAP
from neutrino.domain.scheduling.dhcp import dhcp_device_id
from neutrino.lab import instances, probes, topology
from neutrino.lab.dhcp_client import DhcpClient
from tests.lab.cloud_support import ProcessCloud, ip_of, poll, process_lab

pytestmark = pytest.mark.root
LAB_FILE = Path(__file__).parents[2] / "examples" / "two-network-nodes.yaml"
LEASE = 120
SERVER = {"dhcp_agents_per_network": 2}
AGENTS = {"report_interval": 1.0, "dhcp_lease_duration": LEASE}
HANG_GUARD = 2 * LEASE
"""Not a timing assertion: a bound that tells a hang from a slow machine (a renewal comes
within one lease of the kill)."""


def _dhcp_ports(cl: ProcessCloud, network_id: str) -> list[dict[str, Any]]:
    return cl.api.request("GET", f"ports?network_id={network_id}&device_owner=network:dhcp")["ports"]  # type: ignore[no-any-return]


def _serving(cl: ProcessCloud, network_id: str) -> list[dict[str, Any]]:
    """The network's DHCP ports once there is one ACTIVE port per network node."""
    ports = _dhcp_ports(cl, network_id)
    return ports if len(ports) == 2 and all(p["status"] == "ACTIVE" for p in ports) else []


def _vm(cl: ProcessCloud, name: str, network_id: str) -> instances.Instance:
    return cl.vm(name, network_id, "compute1", security_groups=("default",))  # type: ignore[no-any-return]


def _nft_map(netns: str, name: str) -> str:
    return programs.run(["nft", "list", "map", "bridge", "neutrino-fw", name], netns=netns, check=False).stdout


def test_two_dhcp_agents_serve_a_network_and_one_dies(lab_root):
    with process_lab(lab_root, topology.load(LAB_FILE), server_settings=SERVER, agent_settings=AGENTS) as cl:
        _two_agents(cl)


def _two_agents(cl: ProcessCloud) -> None:
    net = cl.network("ha-net", "10.61.0.0/24")
    ports = poll(lambda: _serving(cl, net["id"]), bool, timeout=60)
    assert ports, f"no ACTIVE DHCP port per network node: {_dhcp_ports(cl, net['id'])}"
    by_host = {p["binding:host_id"]: p for p in ports}
    assert sorted(by_host) == ["network1", "network2"], by_host
    for host, port in by_host.items():
        assert port["device_id"] == dhcp_device_id(net["id"], host)
    servers = {host: p["fixed_ips"][0]["ip_address"] for host, p in by_host.items()}

    a, b = _vm(cl, "ha-a", net["id"]), _vm(cl, "ha-b", net["id"])
    client = DhcpClient(cl.lab, a.name)
    try:
        bound = client.start()
        leased = time.monotonic()
        assert bound.ip == ip_of(a), bound
        # both servers' addresses as DNS servers, in port order, whichever server answered
        assert bound.fields["dns"] == ",".join(p["fixed_ips"][0]["ip_address"] for p in sorted(ports, key=lambda p: p["id"]))
        assert bound.fields["server"] in servers.values(), bound
        for host in servers:  # the same host line in both dnsmasqs
            hosts = poll(lambda h=host: _dnsmasq_file(cl, h, net["id"], "host"), lambda text: a.mac.lower() in text)
            assert a.mac.lower() in hosts, (host, hosts)

        _rogue_not_heard(cl, net, b)

        victim = next(h for h, ip in servers.items() if ip == bound.fields["server"])
        [survivor] = [h for h in servers if h != victim]
        dnsmasq_pid = int(_dnsmasq_file(cl, victim, net["id"], "pid").strip())
        cmdline = Path(f"/proc/{dnsmasq_pid}/cmdline").read_bytes().decode(errors="replace")
        assert cmdline.startswith("dnsmasq") and net["id"] in cmdline, cmdline  # the pid is still that dnsmasq
        killed = time.monotonic()
        cl.stop_agent_for_good(victim)
        os.kill(dnsmasq_pid, signal.SIGKILL)
        times: dict[str, float] = {}

        def since() -> float:
            return round(time.monotonic() - killed, 1)

        fresh = instances.dhcp_lease(cl.lab, b.name)
        assert fresh.ip == b.ip, f"a fresh discovery after the kill gave {fresh.ip}, not {b.ip}"
        times["fresh discovery answered (the other instance)"] = since()
        renewed = client.next_report(HANG_GUARD)
        assert renewed.event == "renew" and renewed.ip == ip_of(a), f"{renewed}; all reports: {client.events()}"
        assert renewed.fields["server"] == servers[survivor], renewed
        times[f"running client's lease renewed by {survivor} (rebinding)"] = since()
        tcp = probes.transfer(b.netns, a.netns, ip_of(a), timeout=5)
        udp = probes.transfer(a.netns, b.netns, ip_of(b), udp=True, port=5002, timeout=5)
        assert tcp.ok and udp.ok, (tcp, udp)
        times["TCP and UDP between the instances"] = since()
        print(f"\n{victim}'s DHCP agent and dnsmasq killed {killed - leased:.1f} s after the lease began "
              f"(lease {LEASE}s, udhcpc's own timers):")
        for step, seconds in times.items():
            print(f"  {seconds:5.1f} s  {step}")
    finally:
        client.stop()


def _dnsmasq_file(cl: ProcessCloud, host: str, network_id: str, name: str) -> str:
    return (cl.lab.state_dir / host / "dhcp" / network_id / name).read_text()


def _rogue_not_heard(cl: ProcessCloud, net: dict[str, Any], victim: instances.Instance) -> None:
    rogue = _vm(cl, "ha-rogue", net["id"])
    rogue_dhcp_not_heard(cl, rogue, victim, victim.devices[QBR])


def rogue_dhcp_not_heard(cl: Any, rogue: instances.Instance, victim: instances.Instance, control: str) -> None:
    """``rogue`` (on ``victim``'s host and network) loses port security and runs a dnsmasq
    offering addresses of its own: its replies are seen on ``control`` (a device in the host's
    namespace they cross before the victim's firewall: the victim's qbr, or the rogue's tap on
    a brq bridge), never at the victim's NIC, and the victim's discovery gets its own address
    from the real servers. The rogue is stopped (by pid) before the function returns."""
    cl.api.request("PUT", f"ports/{rogue.port_id}", {"port": {"security_groups": [], "port_security_enabled": False}})
    host_ns = cl.lab.host(victim.host).netns
    tap = rogue.devices[TAP]
    unfiltered = poll(lambda: _nft_map(host_ns, "from_vm"), lambda text: f'"{tap}" : accept' in text, timeout=30)
    assert f'"{tap}" : accept' in unfiltered, unfiltered
    subnet = ipaddress.ip_interface(str(victim.ip)).network
    first, last = subnet[200], subnet[210]
    work = cl.lab.state_dir / "instances"
    argv = ["dnsmasq", "-k", "--conf-file=/dev/null", "--port=0", "--no-resolv", "--no-hosts", "--user=root",
            "--interface=eth0", "--except-interface=lo", "--bind-interfaces", "--dhcp-authoritative", "--no-ping",
            f"--dhcp-range={first},{last},120", f"--dhcp-leasefile={work / 'rogue.leases'}",
            f"--pid-file={work / 'rogue.pid'}", f"--log-facility={work / 'rogue.log'}", "--log-dhcp"]  # fmt: skip
    proc = subprocess.Popen(programs.netns_argv(argv, rogue.netns), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        time.sleep(0.5)
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        bpf = f"udp and src port 67 and ether src {rogue.mac.lower()}"
        with probes.Capture(control, bpf, netns=host_ns) as at_control, \
                probes.Capture("eth0", bpf, netns=victim.netns) as at_nic:  # fmt: skip
            lease = instances.dhcp_lease(cl.lab, victim.name)
            time.sleep(1.0)  # the rogue's late answers too
    finally:
        proc.kill()  # ip netns exec execs dnsmasq: this pid is the rogue's
        proc.wait(timeout=5)
    seen, seen_nic = [x for x in at_control.lines if x.strip()], [x for x in at_nic.lines if x.strip()]
    assert lease.ip == victim.ip, f"{victim.name} took {lease.ip} (its port has {victim.ip})"
    log = (work / "rogue.log").read_text(errors="replace") if (work / "rogue.log").exists() else "(no log)"
    assert seen, f"the rogue's offer never reached {control}: the check proves nothing; its log: {log[-1500:]}"
    assert not seen_nic, f"the rogue's replies reached {victim.name}: {seen_nic}"
    print(f"\nrogue DHCP server: {len(seen)} of its replies at {control}, none at {victim.name}'s NIC:")
    print("\n".join(f"  {line}" for line in seen))
