"""The DHCP reconciler on fakes (no root): a network is served, changed, left alone when nothing
changed, removed, and retried after a temporary kernel error."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from neutrino.agent.dhcp.reconciler import OWNER_KEY, DhcpReconciler
from neutrino.contract.desired import DesiredHostState, DhcpNetwork, DhcpPort, DhcpSubnet, FixedIP, Segment
from neutrino.dataplane.errors import TemporaryError
from neutrino.dataplane.fake import FakeAnnouncer, FakeNetlink
from neutrino.dataplane.fake_dnsmasq import FakeDhcpServers
from neutrino.dataplane.fake_ovs import FakeOvsdb
from neutrino.dataplane.host import HostContext
from tests.unit.recording import Recording, record_commits

pytestmark = pytest.mark.unit

NET, SUB, CIDR, GW = "5b0c1a52-0000-4000-8000-00000000beef", "sub-0001", "10.0.0.0/24", "10.0.0.1"
SUBNET = DhcpSubnet(SUB, CIDR, 4, GW, True, None, None, (), ())
DHCP = DhcpPort("d0c0ffee-1111-4000-8000-000000000002", "fa:16:3e:00:00:02", "network:dhcp",
                (FixedIP(SUB, "10.0.0.2", CIDR, GW),), ())  # fmt: skip
VM = DhcpPort("a1000000-0001-4000-8000-000000000005", "fa:16:3e:00:00:05", "compute:nova",
              (FixedIP(SUB, "10.0.0.5", CIDR, GW),), ())  # fmt: skip
NS, DEV, TAP = "h1-qdhcp-" + NET, "ns-d0c0ffee-11", "tapd0c0ffee-11"


def state(*ports: DhcpPort, dhcp: bool = True, mtu: int = 1450) -> DesiredHostState:
    network = DhcpNetwork(NET, Segment("vxlan", None, 1000, mtu), mtu, (SUBNET,), ports,
                          (DHCP.port_id,) if dhcp else (), 1)  # fmt: skip
    return DesiredHostState(host="h1", dhcp_networks=(network,))


@dataclasses.dataclass
class Agent:
    rec: DhcpReconciler
    netlink: FakeNetlink
    ovsdb: FakeOvsdb
    servers: FakeDhcpServers
    calls: list[tuple[str, str]]
    asked: list[str]


@pytest.fixture
def agent(tmp_path: Path) -> Agent:
    netlink, ovsdb, servers = FakeNetlink(), FakeOvsdb(), FakeDhcpServers()
    with ovsdb.transaction() as txn:
        txn.add_bridge("br-int")
    calls: list[tuple[str, str]] = []
    record_commits(ovsdb, calls)
    asked: list[str] = []
    host = HostContext("h1", prefix="h1-")
    rec = DhcpReconciler(host, Recording(netlink, calls, "netlink"), ovsdb, tmp_path / "dhcp", asked.append,  # type: ignore[arg-type]
                         announcer=Recording(FakeAnnouncer(), calls, "announcer"), servers=servers)  # type: ignore[arg-type]
    return Agent(rec, netlink, ovsdb, servers, calls, asked)


def test_create_plugs_the_port_and_starts_dnsmasq(agent: Agent) -> None:
    result = agent.rec.reconcile(state(DHCP, VM))
    assert result.networks == [NET] and not result.failed
    dev = agent.netlink.link(DEV, netns=NS)
    assert dev is not None and dev.up and dev.address == DHCP.mac_address and dev.mtu == 1450
    assert agent.netlink.addresses(DEV, netns=NS) == ["10.0.0.2/24"]
    assert (NS, DEV) in agent.netlink.tx_checksum_off
    port = agent.ovsdb.port(TAP)
    assert port.bridge == "br-int" and port.iface_external_ids["iface-id"] == DHCP.port_id
    assert port.iface_external_ids[OWNER_KEY] == NET
    assert len(agent.servers.state.starts) == 1 and VM.port_id in result.ready_port_ids


def test_a_pass_with_nothing_to_do_writes_nothing(agent: Agent) -> None:
    agent.rec.reconcile(state(DHCP, VM))
    agent.calls.clear()
    writes = agent.servers.state.writes()
    result = agent.rec.reconcile(state(DHCP, VM))
    assert result.networks == [NET]
    assert agent.calls == [] and agent.servers.state.writes() == writes


def test_a_change_is_applied(agent: Agent) -> None:
    agent.rec.reconcile(state(DHCP))
    reloads = len(agent.servers.state.reloads)
    agent.calls.clear()
    agent.rec.reconcile(state(DHCP, VM))  # a new port: its host file line, read on SIGHUP
    assert len(agent.servers.state.reloads) == reloads + 1 and agent.calls == []
    agent.rec.reconcile(state(DHCP, VM, mtu=1400))
    assert agent.netlink.link(DEV, netns=NS).mtu == 1400
    assert ("netlink", "set_link") in agent.calls and ("netlink", "add_veth") not in agent.calls


def test_missing_dhcp_port_is_asked_for(agent: Agent) -> None:
    result = agent.rec.reconcile(state(VM, dhcp=False))
    assert agent.asked == [NET] and result.requested_ports == [NET] and not agent.netlink.netns_exists(NS)


def test_delete_removes_everything(agent: Agent) -> None:
    agent.rec.reconcile(state(DHCP, VM))
    result = agent.rec.reconcile(DesiredHostState(host="h1"))
    assert result.removed == [NET]
    assert not agent.netlink.netns_exists(NS) and agent.netlink.link(TAP) is None
    assert agent.ovsdb.port(TAP) is None and agent.servers.state.running == {}
    assert not (agent.rec.state_dir / NET).exists()
    agent.calls.clear()
    assert agent.rec.reconcile(DesiredHostState(host="h1")).removed == [] and agent.calls == []


def test_a_temporary_error_is_reported_and_retried(agent: Agent, monkeypatch: pytest.MonkeyPatch) -> None:
    add_veth = agent.netlink.add_veth

    def busy(*args: Any, **kw: Any) -> None:
        raise TemporaryError("add veth", args[0], "EBUSY")

    monkeypatch.setattr(agent.netlink, "add_veth", busy)
    result = agent.rec.reconcile(state(DHCP, VM))
    assert list(result.failed) == [NET] and result.networks == [] and agent.servers.state.starts == []
    monkeypatch.setattr(agent.netlink, "add_veth", add_veth)
    result = agent.rec.reconcile(state(DHCP, VM))
    assert result.networks == [NET] and not result.failed and len(agent.servers.state.starts) == 1
