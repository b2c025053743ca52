"""The L3 reconciler on fakes (no root): a router is created, changed, left alone when nothing
changed, removed, and retried after a temporary kernel error; its nftables tables go in one
script per namespace and no program is started."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from neutrino.agent.l3.reconciler import ROUTER_KEY, L3Reconciler
from neutrino.contract.desired import (DesiredHostState, FixedIP, FloatingIPState, RouterGateway, RouterInterface,
                                       RouterState, Segment)  # fmt: skip
from neutrino.dataplane.errors import TemporaryError
from neutrino.dataplane.fake import FakeAnnouncer, FakeConntrack, FakeNetlink, FakeNftables
from neutrino.dataplane.fake_ovs import FakeOvsdb
from neutrino.dataplane.host import HostContext
from tests.unit.recording import Recording, record_commits

pytestmark = pytest.mark.unit

SEG = Segment("vxlan", None, 1001, 1450)
R = "4e0c0de0-0000-4000-8000-000000000001"
IF, GW = "aaaaaaaa-0000-4000-8000-000000000002", "bbbbbbbb-0000-4000-8000-000000000003"
NS, QR, QG = "h1-qrouter-" + R, "qr-aaaaaaaa-00", "qg-bbbbbbbb-00"
FIP = FloatingIPState("f1", "198.51.100.20", "10.0.0.5", "cccccccc-0000-4000-8000-000000000004", "DOWN")


def router(*fips: FloatingIPState, routes: tuple[tuple[str, str], ...] = (), up: bool = True) -> RouterState:
    iface = RouterInterface(IF, "net1", "fa:16:3e:00:00:01", (FixedIP("sub1", "10.0.0.1", "10.0.0.0/24", "10.0.0.1"),), SEG)
    gateway = RouterGateway(GW, "ext", "fa:16:3e:00:00:09", (FixedIP("ext", "198.51.100.10", "198.51.100.0/24",
                            "198.51.100.1"),), SEG, True)  # fmt: skip
    return RouterState(R, up, (iface,), gateway, routes, fips, 1)


def desired(*routers: RouterState) -> DesiredHostState:
    return DesiredHostState(host="h1", routers=routers)


@dataclasses.dataclass
class Agent:
    rec: L3Reconciler
    netlink: FakeNetlink
    ovsdb: FakeOvsdb
    nft: FakeNftables
    announcer: FakeAnnouncer
    conntrack: FakeConntrack
    calls: list[tuple[str, str]]


@pytest.fixture
def agent() -> Agent:
    netlink, ovsdb, announcer, conntrack = FakeNetlink(), FakeOvsdb(), FakeAnnouncer(), FakeConntrack()
    nft = FakeNftables(netlink)
    with ovsdb.transaction() as txn:
        txn.add_bridge("br-int")
    calls: list[tuple[str, str]] = []
    record_commits(ovsdb, calls)
    rec = L3Reconciler(HostContext("h1", prefix="h1-"), Recording(netlink, calls, "netlink"), ovsdb,  # type: ignore[arg-type]
                       Recording(nft, calls, "nftables"), announcer=Recording(announcer, calls, "announcer"),  # type: ignore[arg-type]
                       conntrack=Recording(conntrack, calls, "conntrack"))  # type: ignore[arg-type]
    return Agent(rec, netlink, ovsdb, nft, announcer, conntrack, calls)


def test_create_builds_the_namespace(agent: Agent) -> None:
    result = agent.rec.reconcile(desired(router(FIP)))
    assert result.routers == [R] and not result.failed and result.fip_statuses == {"f1": "ACTIVE"}
    assert agent.netlink.get_sysctl("net.ipv4.ip_forward", netns=NS) == "1"
    assert agent.netlink.addresses(QR, netns=NS) == ["10.0.0.1/24"]
    assert agent.netlink.addresses(QG, netns=NS) == ["198.51.100.10/24", "198.51.100.20/32"]
    assert {"dst": "default", "gateway": "198.51.100.1"} in agent.netlink.routes(netns=NS)
    assert {(NS, QR), (NS, QG)} <= agent.netlink.tx_checksum_off
    assert agent.ovsdb.port("tapaaaaaaaa-00").iface_external_ids[ROUTER_KEY] == R
    assert agent.nft.list_tables(netns=NS) == [("ip", "neutrino-nat")]
    assert agent.nft.scripts == [NS]  # the NAT table and the absent scope and helper tables: one script
    assert (NS, QG, ("198.51.100.20/32",)) in [(ns, d, a[-1:]) for ns, d, a in agent.announcer.sent]


def test_a_pass_with_nothing_to_do_writes_nothing(agent: Agent) -> None:
    agent.rec.reconcile(desired(router(FIP)))
    agent.calls.clear()
    result = agent.rec.reconcile(desired(router(FIP)))
    assert result.changes == 0 and agent.calls == []


def test_a_change_is_applied(agent: Agent) -> None:
    agent.rec.reconcile(desired(router(FIP, routes=(("192.168.5.0/24", "10.0.0.9"),))))
    assert {"dst": "192.168.5.0/24", "gateway": "10.0.0.9"} in agent.netlink.routes(netns=NS)
    agent.calls.clear()
    result = agent.rec.reconcile(desired(router()))  # the floating IP and the extra route go
    assert result.changes > 0
    assert "198.51.100.20/32" not in agent.netlink.addresses(QG, netns=NS)
    assert {"dst": "192.168.5.0/24", "gateway": "10.0.0.9"} not in agent.netlink.routes(netns=NS)
    assert (NS, ("-d", "198.51.100.20")) in agent.conntrack.deleted  # its connections are forgotten
    assert [c for c in agent.calls if c[0] == "nftables"] == [("nftables", "apply_tables")]


def test_delete_removes_the_router(agent: Agent) -> None:
    agent.rec.reconcile(desired(router(FIP)))
    result = agent.rec.reconcile(desired(router(FIP, up=False)))
    assert result.removed == [R] and result.fip_statuses == {"f1": "DOWN"}
    assert not agent.netlink.netns_exists(NS) and agent.ovsdb.port("tapaaaaaaaa-00") is None
    assert agent.netlink.link("tapaaaaaaaa-00") is None
    agent.calls.clear()
    assert agent.rec.reconcile(desired()).removed == [] and agent.calls == []


def test_a_temporary_error_is_reported_and_retried(agent: Agent, monkeypatch: pytest.MonkeyPatch) -> None:
    add_veth = agent.netlink.add_veth

    def busy(*args: Any, **kw: Any) -> None:
        raise TemporaryError("add veth", args[0], "EBUSY")

    monkeypatch.setattr(agent.netlink, "add_veth", busy)
    result = agent.rec.reconcile(desired(router(FIP)))
    assert list(result.failed) == [R] and result.fip_statuses == {"f1": "ERROR"}
    monkeypatch.setattr(agent.netlink, "add_veth", add_veth)
    result = agent.rec.reconcile(desired(router(FIP)))
    assert result.routers == [R] and not result.failed and result.fip_statuses == {"f1": "ACTIVE"}
