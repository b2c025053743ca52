"""The DHCP reconciler against the real kernel, OVS 3.1 and dnsmasq: a client gets its lease (root).

br-int has no fail_mode and no L2 agent runs, so it forwards NORMAL with the DHCP tap untagged.
Clients are plugged as the lab plugs an instance: a namespace whose eth0 is a veth with its
peer on br-int, ``tx off`` (docs/dataplane.md, "Checksum offload"), and busybox udhcpc with ``src/neutrino/lab/udhcpc.sh``.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import neutrino.lab
from neutrino.agent.dhcp.reconciler import OWNER_KEY, DhcpReconciler
from neutrino.dataplane import exec as programs
from neutrino.dataplane.daemons import alive, read_pid
from neutrino.dataplane.dnsmasq import stop_pidfile
from neutrino.dataplane.host import HostContext
from neutrino.dataplane.netlink import Netlink
from neutrino.dataplane.ovsdb import Ovsdb
from neutrino.contract.desired import (DesiredHostState, DhcpNetwork, DhcpPort, DhcpSubnet, FixedIP,
                                              Segment)
from tests.integration.ovs_fixtures import ovs_host  # noqa: F401

pytestmark = pytest.mark.root

SCRIPT = Path(neutrino.lab.__file__).parent / "udhcpc.sh"
NET, SUB, CIDR, GW = "5b0c1a52-0000-4000-8000-00000000beef", "sub-0001", "10.0.0.0/24", "10.0.0.1"
ROUTE = ("192.168.77.0/24", "10.0.0.254")
SUBNET = DhcpSubnet(SUB, CIDR, 4, GW, True, None, None, (), (ROUTE,))
DHCP = DhcpPort("d0c0ffee-1111-4000-8000-000000000002", "fa:16:3e:00:00:02", "network:dhcp",
                (FixedIP(SUB, "10.0.0.2", CIDR, GW),), ())  # fmt: skip
VM1 = DhcpPort("a1000000-0001-4000-8000-000000000005", "fa:16:3e:00:00:05", "compute:nova",
               (FixedIP(SUB, "10.0.0.5", CIDR, GW),), ())  # fmt: skip
VM2 = DhcpPort("a2000000-0002-4000-8000-000000000006", "fa:16:3e:00:00:06", "compute:nova",
               (FixedIP(SUB, "10.0.0.6", CIDR, GW),), (), dns_name="web2")  # fmt: skip
LEASE = re.compile(r"udhcpc\.sh: bound ip=(\S*) mask=(\S*) router=(\S*) mtu=(\S*)")


def state(*ports: DhcpPort, dhcp: bool = True, mtu: int = 1450) -> DesiredHostState:
    network = DhcpNetwork(NET, Segment("vxlan", None, 1000, mtu), mtu, (SUBNET,), ports,
                          (DHCP.port_id,) if dhcp else (), 1)  # fmt: skip
    return DesiredHostState(host="h1", dhcp_networks=(network,))


@pytest.fixture
def dhcp_host(ovs_host: HostContext) -> Iterator[HostContext]:  # noqa: F811
    for program in ("dnsmasq", "busybox", "ethtool"):
        if shutil.which(program) is None:
            pytest.skip(f"not installed: {program}")
    host = dataclasses.replace(ovs_host, prefix=f"{ovs_host.name}-")  # nt-ovs-<hex>-qdhcp-<net>
    with Ovsdb(host).transaction() as txn:
        txn.add_bridge("br-int", datapath_type="netdev")
    yield host


def plug_client(netlink: Netlink, host: HostContext, name: str, port: DhcpPort) -> str:
    vm, tap = host.namespace(name), f"tapc-{name}"
    netlink.add_netns(vm)
    netlink.set_link("lo", netns=vm, up=True)
    netlink.add_veth(tap, "eth0", netns=host.netns, peer_netns=vm)
    netlink.set_sysctl("net.ipv6.conf.all.disable_ipv6", 1, netns=vm)
    netlink.set_link("eth0", netns=vm, address=port.mac_address, up=True)
    netlink.set_link(tap, netns=host.netns, up=True)
    programs.run(["ethtool", "-K", "eth0", "tx", "off"], netns=vm)
    with Ovsdb(host).transaction() as txn:
        txn.add_port("br-int", tap)
    return vm


def _udhcpc(vm: str) -> str:
    done = programs.run(["busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-f", "-t", "5", "-T", "1", "-O", "staticroutes",
                   "-s", str(SCRIPT)],
                  netns=vm, timeout=30, check=False)  # fmt: skip
    assert LEASE.search(done.stdout), f"no lease: {done.stdout}{done.stderr}"
    return done.stdout


def lease(vm: str) -> tuple[str, str, str, str]:
    found = LEASE.search(_udhcpc(vm))
    assert found is not None
    return found.groups()  # type: ignore[return-value]


def leased_name(vm: str) -> tuple[str, str]:
    """(address, hostname option) of a lease."""
    out = _udhcpc(vm)
    found, named = LEASE.search(out), re.search(r"hostname=(\S*)", out)
    assert found is not None and named is not None
    return found.group(1), named.group(1)


def hup_count(log: Path) -> int:
    """dnsmasq logs "read <hostsfile>" at start and on every SIGHUP."""
    return sum(1 for line in log.read_text().splitlines() if re.search(r"read \S+/host\b", line))


def wait_reads(log: Path, count: int, timeout: float = 30.0) -> None:
    """SIGHUP is handled asynchronously: wait until dnsmasq logged ``count`` reads."""
    deadline = time.monotonic() + timeout
    while hup_count(log) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert hup_count(log) == count, log.read_text()


def wait_dead(pid: int | None, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while alive(pid, "dnsmasq") and time.monotonic() < deadline:
        time.sleep(0.05)
    return not alive(pid, "dnsmasq")


def resolve(netns: str, name: str, server: str) -> str:
    done = programs.run(["busybox", "nslookup", name, server], netns=netns, check=False, timeout=10)
    return done.stdout + done.stderr


def test_dhcp_agent_serves_leases_reloads_and_removes(dhcp_host: HostContext) -> None:
    host = dhcp_host
    state_dir = Path(tempfile.mkdtemp(prefix="nt-dhcp-", dir="/tmp"))  # 0700: the reconciler opens it up
    asked: list[str] = []
    netlink = Netlink()
    ovsdb = Ovsdb(host)
    rec = DhcpReconciler(host, netlink, ovsdb, state_dir, asked.append)
    ns, conf = host.namespace(f"qdhcp-{NET}"), state_dir / NET
    tap, dev = "tap" + DHCP.port_id[:11], "ns-" + DHCP.port_id[:11]
    clients: list[str] = []
    try:
        # no DHCP port yet: the server is asked for one, nothing is built
        result = rec.reconcile(state(VM1, dhcp=False))
        assert asked == [NET] and result.networks == [] and result.requested_ports == [NET]
        assert not netlink.netns_exists(ns)

        result = rec.reconcile(state(DHCP, VM1))
        assert result.networks == [NET] and result.ready_port_ids == [VM1.port_id] and not result.failed
        assert asked == [NET]
        link = netlink.link(dev, netns=ns)
        assert link is not None and link.up and link.mtu == 1450 and link.address == DHCP.mac_address
        assert netlink.addresses(dev, netns=ns) == ["10.0.0.2/24"]
        assert "tx-checksumming: off" in programs.run(["ethtool", "-k", dev], netns=ns).stdout
        plugged = ovsdb.port(tap)
        assert plugged is not None and plugged.bridge == "br-int" and plugged.tag is None
        assert plugged.iface_external_ids == {"iface-id": DHCP.port_id, "attached-mac": DHCP.mac_address,
                                              "iface-status": "active", OWNER_KEY: NET}  # fmt: skip
        pid = read_pid(conf / "pid")
        assert alive(pid, "dnsmasq")
        log = conf / "dnsmasq.log"
        reads = hup_count(log)

        # a second pass changes nothing and signals nobody
        again = rec.reconcile(state(DHCP, VM1))
        assert again.ready_port_ids == [VM1.port_id] and read_pid(conf / "pid") == pid
        assert hup_count(log) == reads

        clients.append(host.namespace("vm1"))
        vm1 = plug_client(netlink, host, "vm1", VM1)
        assert lease(vm1) == ("10.0.0.5", "24", GW, "1450")
        assert netlink.addresses("eth0", netns=vm1) == ["10.0.0.5/24"]
        assert netlink.link("eth0", netns=vm1).mtu == 1450  # type: ignore[union-attr]
        routes = {r["dst"]: r["gateway"] for r in netlink.routes(netns=vm1)}
        assert routes["default"] == GW and routes[ROUTE[0]] == ROUTE[1], routes  # option 121 applied
        assert "10.0.0.5" in (conf / "leases").read_text()

        # a new port: SIGHUP (same pid), and its MAC gets a lease
        result = rec.reconcile(state(DHCP, VM1, VM2))
        assert result.ready_port_ids == [VM1.port_id, VM2.port_id]
        assert read_pid(conf / "pid") == pid
        wait_reads(log, reads + 1)
        clients.append(host.namespace("vm2"))
        vm2 = plug_client(netlink, host, "vm2", VM2)
        assert leased_name(vm2) == ("10.0.0.6", "web2")  # its dns_name is its hostname (dns-integration)

        # the leased name resolves from the qdhcp namespace
        answer = resolve(ns, "host-10-0-0-5.openstacklocal", "10.0.0.2")
        assert "10.0.0.5" in answer, answer
        answer = resolve(ns, "web2.openstacklocal", "10.0.0.2")
        assert "10.0.0.6" in answer, answer

        # agent restart: a new reconciler adopts everything and keeps dnsmasq
        rec = DhcpReconciler(host, netlink, ovsdb, state_dir, asked.append)
        result = rec.reconcile(state(DHCP, VM1, VM2))
        assert result.networks == [NET] and read_pid(conf / "pid") == pid
        wait_reads(log, reads + 2)  # reloaded once on adoption: files written before a crash are read

        # dnsmasq died: started again; the argv changed (MTU): restarted, and the device follows
        os.kill(pid, signal.SIGKILL)  # type: ignore[arg-type]
        assert wait_dead(pid)
        rec.reconcile(state(DHCP, VM1, VM2))
        pid2 = read_pid(conf / "pid")
        assert pid2 != pid and alive(pid2, "dnsmasq")
        rec.reconcile(state(DHCP, VM1, VM2, mtu=1400))
        pid = read_pid(conf / "pid")
        assert pid != pid2 and alive(pid, "dnsmasq") and not alive(pid2, "dnsmasq")
        assert "--dhcp-option-force=option:mtu,1400" in Path(f"/proc/{pid}/cmdline").read_text()
        assert netlink.link(dev, netns=ns).mtu == 1400  # type: ignore[union-attr]

        # the network leaves this host: process, port, namespace and directory go
        result = rec.reconcile(DesiredHostState(host="h1"))
        assert result.removed == [NET] and not result.failed
        assert not alive(pid, "dnsmasq")
        assert not netlink.netns_exists(ns) and ovsdb.port(tap) is None and not conf.exists()
        assert netlink.link(tap, netns=host.netns) is None
    finally:
        try:
            rec.cleanup_all()
        finally:
            stop_pidfile(conf / "pid")
            for name in [*clients, ns]:
                netlink.del_netns(name)
            netlink.close()
            shutil.rmtree(state_dir, ignore_errors=True)
