"""The L3 reconciler on a real kernel and a private OVS (root): SNAT, floating IPs, teardown.

br-int runs NORMAL (no L2 agent here); the test plays the L2 agent by tagging the router's taps
after the reconciler plugged them: tag 1 is the tenant network (two VMs), tag 2 the external
network (the "outside" namespace holding its gateway 198.51.100.1, with no route back to the
tenant network, so only NAT gets an answer back).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator

import pytest

from neutrino.agent.l3.reconciler import L3Reconciler, L3Result
from neutrino.dataplane import exec as programs
from neutrino.dataplane.host import HostContext
from neutrino.dataplane.naming import QG, QR, TAP, device
from neutrino.dataplane.netlink import Netlink
from neutrino.dataplane.nftables import Nftables
from neutrino.dataplane.ovsdb import Ovsdb
from neutrino.contract.desired import (
    DesiredHostState, FixedIP, FloatingIPState, RouterGateway, RouterInterface, RouterState, Segment,
)  # fmt: skip
from neutrino.lab.probes import Capture, ping, transfer
from tests.integration.ovs_fixtures import ovs_host  # noqa: F401

pytestmark = pytest.mark.root

ROUTER, QR_PORT, QG_PORT = (str(uuid.uuid4()) for _ in range(3))
INTERNAL, EXTERNAL = 1, 2
FIP = FloatingIPState("fip-1", "198.51.100.20", "10.0.1.11", "vm1-port", "DOWN")
IFACE = RouterInterface(QR_PORT, "net1", "fa:16:3e:00:01:01",
                        (FixedIP("sub1", "10.0.1.1", "10.0.1.0/24", "10.0.1.1"),), Segment("vlan", "physnet1", 100, 1500))  # fmt: skip
GATEWAY = RouterGateway(QG_PORT, "ext", "fa:16:3e:00:02:01",
                        (FixedIP("extsub", "198.51.100.10", "198.51.100.0/24", "198.51.100.1"),),
                        Segment("flat", "extnet", None, 1500), True)  # fmt: skip
STATE = RouterState(ROUTER, True, (IFACE,), GATEWAY, (), (FIP,), 1)


def desired(*routers: RouterState) -> DesiredHostState:
    return DesiredHostState(host="h1", routers=routers)


@dataclasses.dataclass
class Lab:
    host: HostContext
    netlink: Netlink
    reconciler: L3Reconciler
    vm1: str
    vm2: str
    outside: str

    def reconcile(self, *routers: RouterState) -> L3Result:
        result = self.reconciler.reconcile(desired(*routers))
        assert result.failed == {}
        return result

    def ports(self) -> list[str]:
        return Ovsdb(self.host).bridge_ports("br-int")


def add_endpoint(netlink: Netlink, host: HostContext, ns: str, tap: str, ip: str, gateway: str | None, tag: int) -> None:
    """A namespace with eth0 (tx off, docs/dataplane.md) whose veth peer is an access port of br-int."""
    netlink.add_netns(ns)
    netlink.set_link("lo", netns=ns, up=True)
    netlink.set_sysctl("net.ipv6.conf.all.disable_ipv6", 1, netns=ns)  # no IPv6 noise (docs/dataplane.md)
    netlink.add_veth(tap, "eth0", netns=host.netns, peer_netns=ns)
    netlink.set_link(tap, netns=host.netns, up=True)
    netlink.set_link("eth0", netns=ns, up=True)
    netlink.add_address("eth0", ip, netns=ns)
    if gateway:
        netlink.replace_route("default", gateway=gateway, netns=ns)
    programs.run(["ethtool", "-K", "eth0", "tx", "off"], netns=ns)
    with Ovsdb(host).transaction() as txn:
        txn.add_port("br-int", tap, tag=tag)


@pytest.fixture
def lab(ovs_host: HostContext) -> Iterator[Lab]:  # noqa: F811
    host = dataclasses.replace(ovs_host, prefix=f"{ovs_host.name}-")
    netlink = Netlink()
    names = {n: host.namespace(n) for n in ("vm1", "vm2", "outside")}
    try:
        with Ovsdb(host).transaction() as txn:
            txn.add_bridge("br-int", datapath_type="netdev")
        add_endpoint(netlink, host, names["vm1"], "tapvm1", "10.0.1.11/24", "10.0.1.1", INTERNAL)
        add_endpoint(netlink, host, names["vm2"], "tapvm2", "10.0.1.12/24", "10.0.1.1", INTERNAL)
        add_endpoint(netlink, host, names["outside"], "tapout", "198.51.100.1/24", None, EXTERNAL)
        yield Lab(host, netlink, L3Reconciler(host, netlink, Ovsdb(host), Nftables()), **names)
    finally:
        for ns in netlink.list_netns():
            if ns.startswith(host.prefix):
                netlink.del_netns(ns)
        netlink.close()


ALLOWED = 30.0  # an allowed transfer waits this long only when it fails (the default 10 s is short under load)


def tag_router_ports(lab: Lab) -> None:
    """What the L2 agent would do: the router's taps get their networks' local VLANs."""
    with Ovsdb(lab.host).transaction() as txn:
        txn.set_port(device(TAP, QR_PORT), tag=INTERNAL)
        txn.set_port(device(TAP, QG_PORT), tag=EXTERNAL)


def sources_seen(lab: Lab, src_ns: str, port: int) -> set[str]:
    """Send TCP from ``src_ns`` to the outside and return the source addresses it saw."""
    with Capture("eth0", f"tcp dst port {port}", netns=lab.outside, count=5) as cap:
        check = transfer(src_ns, lab.outside, "198.51.100.1", port=port, size=4096, timeout=ALLOWED)
    assert check.ok, check
    return {line.split(": ", 1)[1].split(" > ")[0].rsplit(".", 1)[0] for line in cap.lines if " > 198.51.100.1." in line}


def test_snat_floating_ip_and_teardown(lab: Lab) -> None:
    rns = lab.reconciler.namespace(ROUTER)
    qr, qg = device(QR, QR_PORT), device(QG, QG_PORT)

    first = lab.reconcile(STATE)
    tag_router_ports(lab)
    assert first.routers == [ROUTER] and first.fip_statuses == {"fip-1": "ACTIVE"}
    assert first.changes > 0
    assert {device(TAP, QR_PORT), device(TAP, QG_PORT)} <= set(lab.ports())
    assert lab.netlink.get_sysctl("net.ipv4.ip_forward", netns=rns) == "1"
    assert lab.netlink.get_sysctl("net.ipv4.conf.all.arp_ignore", netns=rns) == "1"
    assert lab.netlink.get_sysctl("net.ipv4.ip_forward", netns=lab.host.netns) == "0"  # the host's stays off
    link = lab.netlink.link(qr, netns=rns)
    assert link is not None and link.address == "fa:16:3e:00:01:01" and link.up and link.mtu == 1500
    assert sorted(lab.netlink.addresses(qg, netns=rns)) == ["198.51.100.10/24", "198.51.100.20/32"]
    assert {"dst": "default", "gateway": "198.51.100.1"} in lab.netlink.routes(netns=rns)

    # same state again: nothing to do (the L2 agent's tags are left alone)
    again = lab.reconcile(STATE)
    assert again.changes == 0 and again.fip_statuses == {"fip-1": "ACTIVE"}
    assert Ovsdb(lab.host).port(device(TAP, QR_PORT)).tag == INTERNAL  # type: ignore[union-attr]

    # east-west is not NATed; VM without FIP leaves as the gateway IP, VM with FIP as its FIP
    assert ping(lab.vm2, "10.0.1.11").ok
    assert sources_seen(lab, lab.vm2, 5101) == {"198.51.100.10"}
    assert sources_seen(lab, lab.vm1, 5102) == {"198.51.100.20"}
    # the outside reaches the VM through its floating IP (TCP: DNAT, with the checksums right)
    assert transfer(lab.outside, lab.vm1, "198.51.100.20", port=5103, timeout=ALLOWED).ok
    tracked = programs.run(["conntrack", "-L"], netns=rns, check=False).stdout
    assert "dst=198.51.100.20" in tracked and "src=10.0.1.11" in tracked

    # a restarted agent re-applies only its NAT table (it does not remember the text)
    restarted = L3Reconciler(lab.host, lab.netlink, Ovsdb(lab.host), Nftables())
    assert restarted.reconcile(desired(STATE)).changes == 1

    # the FIP goes: inbound is cut, the VM leaves through SNAT again
    no_fip = dataclasses.replace(STATE, floating_ips=())
    assert lab.reconcile(no_fip).changes > 0
    assert lab.netlink.addresses(qg, netns=rns) == ["198.51.100.10/24"]
    assert not transfer(lab.outside, lab.vm1, "198.51.100.20", port=5104, timeout=3).ok
    assert sources_seen(lab, lab.vm1, 5105) == {"198.51.100.10"}
    assert lab.reconcile(no_fip).changes == 0

    # the interface goes: no more routing for the tenant network
    no_iface = dataclasses.replace(no_fip, interfaces=())
    lab.reconcile(no_iface)
    assert lab.netlink.link(qr, netns=rns) is None
    assert device(TAP, QR_PORT) not in lab.ports()
    assert not ping(lab.vm2, "198.51.100.1", count=2).ok
    assert lab.reconcile(no_iface).changes == 0

    # the router goes: namespace and OVS ports with it
    gone = lab.reconcile()
    assert gone.removed == [ROUTER] and gone.routers == []
    assert not lab.netlink.netns_exists(rns)
    assert not {device(TAP, QR_PORT), device(TAP, QG_PORT)} & set(lab.ports())
    assert lab.netlink.link(device(TAP, QG_PORT), netns=lab.host.netns) is None
    assert lab.reconcile().changes == 0


def test_admin_down_router_is_removed_and_its_fips_down(lab: Lab) -> None:
    lab.reconcile(STATE)
    down = lab.reconcile(dataclasses.replace(STATE, admin_state_up=False))
    assert down.fip_statuses == {"fip-1": "DOWN"} and down.removed == [ROUTER]
    assert not lab.netlink.netns_exists(lab.reconciler.namespace(ROUTER))
    assert not {device(TAP, QR_PORT), device(TAP, QG_PORT)} & set(lab.ports())
