"""The host agent with every role on the fake dataplane (no root, no server): one pass plugs a
VIF, serves DHCP and builds a router; a change is applied and reported; a pass with nothing to
do writes nothing, reports nothing and starts no program; removal; a temporary error."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from neutrino.agent.adapters import AgentAdapters
from neutrino.agent.runner import AgentSettings, HostAgent
from neutrino.bus.inproc import InProcTransport
from neutrino.contract import desired as contract
from neutrino.dataplane import exec as programs
from neutrino.dataplane.errors import TemporaryError
from neutrino.dataplane.fake import FakeAnnouncer, FakeConntrack, FakeNetlink, FakeNftables
from neutrino.dataplane.fake_dnsmasq import FakeDhcpServers
from neutrino.dataplane.fake_ovs import FakeOpenFlow, FakeOvsdb, FakeOvsInstance, FakeOvsState
from neutrino.dataplane.host import HostContext
from neutrino.dataplane.naming import hybrid_devices
from tests.unit.recording import Recording, record_commits
from tests.unit.test_dhcp_reconciler import DHCP, NET, VM, state as dhcp_state
from tests.unit.test_l3_reconciler import FIP, router

pytestmark = pytest.mark.unit

SEG = contract.Segment("vxlan", None, 1000, 1450)


def vm_port(admin: bool = True) -> contract.BoundPort:
    return contract.BoundPort(
        port_id=VM.port_id, network_id=NET, mac_address=VM.mac_address, admin_state_up=admin,
        device_owner="compute:nova", device_id="vm", vif_type="ovs", segment=SEG, fixed_ips=(),
        port_security_enabled=False, security_groups=(), rules=(), allowed_address_pairs=(), revision_number=1,
    )  # fmt: skip


def everything(admin: bool = True, fips: tuple[contract.FloatingIPState, ...] = (FIP,)) -> contract.DesiredHostState:
    return dataclasses.replace(dhcp_state(DHCP, VM), host="c1", ports=(vm_port(admin),), routers=(router(*fips),))


@dataclasses.dataclass
class World:
    agent: HostAgent
    state: FakeOvsState
    openflow: FakeOpenFlow
    servers: FakeDhcpServers
    calls: list[tuple[str, str]]
    reports: list[dict[str, Any]]
    desired: list[contract.DesiredHostState]


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    state, netlink, calls = FakeOvsState(), FakeNetlink(), []
    switch, ovsdb, openflow, servers = FakeOvsInstance(state=state), FakeOvsdb(state=state), FakeOpenFlow(state=state), FakeDhcpServers()
    switch.start()
    record_commits(ovsdb, calls)
    adapters = AgentAdapters(
        netlink=Recording(netlink, calls, "netlink"), nftables=Recording(FakeNftables(netlink), calls, "nftables"),  # type: ignore[arg-type]
        ovsdb=ovsdb, openflow=openflow, switch=switch, announcer=Recording(FakeAnnouncer(), calls, "announcer"),  # type: ignore[arg-type]
        conntrack=Recording(FakeConntrack(), calls, "conntrack"), dhcp_servers=servers,  # type: ignore[arg-type]
    )  # fmt: skip
    settings = AgentSettings(roles=("l2", "dhcp", "l3"), tunnel_types=["vxlan"], tunneling_ip="172.31.0.2",
                             state_dir=tmp_path, firewall=True)  # fmt: skip
    agent = HostAgent(HostContext(name="c1"), InProcTransport(), settings, adapters)
    desired = [everything()]
    reports: list[dict[str, Any]] = []
    monkeypatch.setattr(agent.client, "desired_state", lambda: desired[-1])
    monkeypatch.setattr(agent.client, "report_pass", lambda **kw: reports.append(kw))
    monkeypatch.setattr(agent.client, "bind_ports", lambda ids: list(ids))
    qvo = hybrid_devices(VM.port_id)["qvo"]
    with ovsdb.transaction() as txn:
        txn.add_bridge("br-int", datapath_type="netdev")
        txn.add_port("br-int", qvo, iface_external_ids={"iface-id": VM.port_id, "attached-mac": VM.mac_address,
                                                        "iface-status": "active"})  # fmt: skip
    return World(agent, state, openflow, servers, calls, reports, desired)


def test_create_then_a_pass_with_nothing_to_do(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    result = world.agent.reconcile_once()
    assert result.wired == [VM.port_id]
    # DHCP readiness goes first, alone (the port waits for it, not for the L2 pass), then the rest
    assert world.reports == [{"dhcp_ready": [VM.port_id]},
                             {"up": [VM.port_id], "down": [], "dhcp_ready": [], "fip_statuses": {"f1": "ACTIVE"}}]  # fmt: skip
    assert world.agent.l2.ovsdb.port(hybrid_devices(VM.port_id)["qvo"]).tag == 1  # type: ignore[union-attr]
    assert world.servers.state.starts and world.agent.l3 is not None

    def no_program(argv: Any, **kw: Any) -> None:
        raise AssertionError(f"a no-op pass started {argv}")

    monkeypatch.setattr(programs, "run", no_program)
    world.calls.clear()
    sent, writes = len(world.openflow.sent), world.servers.state.writes()
    again = world.agent.reconcile_once()
    assert (again.ovsdb_commands, again.flow_changes, again.wired, again.unwired, again.firewall_applied) == (0, 0, [], [], False)
    assert world.calls == [] and len(world.openflow.sent) == sent and world.servers.state.writes() == writes
    assert len(world.reports) == 2


def test_a_change_is_applied_and_reported(world: World) -> None:
    world.agent.reconcile_once()
    world.desired.append(everything(admin=False, fips=()))
    result = world.agent.reconcile_once()
    assert result.unwired == [VM.port_id]
    assert world.reports[-1]["down"] == [VM.port_id] and world.reports[-1]["fip_statuses"] == {}
    assert ("conntrack", "delete") in world.calls  # the floating IP's connections went with it


def test_delete_removes_what_the_roles_made(world: World) -> None:
    world.agent.reconcile_once()
    world.desired.append(contract.DesiredHostState(host="c1"))
    result = world.agent.reconcile_once()
    assert result.unwired == [VM.port_id]
    netlink = world.agent.l3.netlink  # type: ignore[union-attr]
    assert [ns for ns in netlink.list_netns() if ns.startswith(("qdhcp-", "qrouter-"))] == []
    assert world.servers.state.running == {}


def test_a_temporary_error_fails_the_pass_and_the_next_one_applies(world: World) -> None:
    world.state.ovsdb_running = False
    with pytest.raises(TemporaryError):
        world.agent.reconcile_once()
    assert world.reports == []
    world.state.ovsdb_running = True
    assert world.agent.reconcile_once().wired == [VM.port_id] and world.reports[-1]["up"] == [VM.port_id]


def test_the_ovs_agent_reports_hybrid_plug_from_its_firewall(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """iptables_hybrid (here nftables on the qbr) needs the hybrid plug; the noop firewall does
    not, and then a tap wired straight on br-int is a port like a qvo (found by its iface-id)."""
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(world.agent.client, "report_state", lambda **kw: sent.append(kw))
    world.agent.report()
    world.agent.settings.firewall = False
    world.agent.report()
    ovs = [r["configurations"]["ovs_hybrid_plug"] for r in sent if r["agent_type"] == "Open vSwitch agent"]
    assert ovs == [True, False]
    tap = hybrid_devices(VM.port_id)["tap"]
    with world.agent.l2.ovsdb.transaction() as txn:  # type: ignore[union-attr]
        txn.del_port(hybrid_devices(VM.port_id)["qvo"])
        txn.add_port("br-int", tap, iface_external_ids={"iface-id": VM.port_id, "attached-mac": VM.mac_address,
                                                        "iface-status": "active"})  # fmt: skip
    assert world.agent.reconcile_once().wired == [VM.port_id]
    assert world.agent.l2.ovsdb.port(tap).tag == 1  # type: ignore[union-attr]


def test_the_openvswitch_firewall_driver_filters_in_br_int_flows(tmp_path: Path) -> None:
    """``firewall_driver = openvswitch``: no nftables firewall, no hybrid plug, and a filtered
    port's security groups in br-int's flows (tables 71-82, agent/l2/ovs_firewall_flows.py)."""
    from neutrino.agent.config import load_agent_config

    state, netlink = FakeOvsState(), FakeNetlink()
    switch, ovsdb, openflow = FakeOvsInstance(state=state), FakeOvsdb(state=state), FakeOpenFlow(state=state)
    switch.start()
    adapters = AgentAdapters(netlink=netlink, nftables=FakeNftables(netlink), ovsdb=ovsdb, openflow=openflow,
                             switch=switch, announcer=FakeAnnouncer(), conntrack=FakeConntrack())  # fmt: skip
    settings = AgentSettings(roles=("l2",), tunnel_types=["vxlan"], tunneling_ip="172.31.0.2", firewall_driver="openvswitch")
    agent = HostAgent(HostContext(name="c1"), InProcTransport(), settings, adapters)
    assert agent.firewall_tables is None and not settings.ovs_hybrid_plug
    tap = hybrid_devices(VM.port_id)["tap"]
    with ovsdb.transaction() as txn:
        txn.add_bridge("br-int", datapath_type="netdev")
        txn.add_port("br-int", tap, iface_external_ids={"iface-id": VM.port_id, "attached-mac": VM.mac_address,
                                                        "iface-status": "active"})  # fmt: skip
    filtered = dataclasses.replace(vm_port(), port_security_enabled=True, rules=(
        contract.SecurityRule("sg", "ingress", "IPv4", "tcp", 22, 22, ()),))  # fmt: skip
    agent.client.desired_state = lambda: dataclasses.replace(dhcp_state(DHCP, VM), host="c1", ports=(filtered,))  # type: ignore[method-assign]
    agent.client.report_pass = lambda **kw: None  # type: ignore[method-assign]
    agent.client.bind_ports = lambda ids: list(ids)  # type: ignore[method-assign]
    assert agent.reconcile_once().wired == [VM.port_id]
    flows = [f.render() for f in state.flows["br-int"].values()]
    assert any(f"in_port={tap}" in f and "resubmit(,71)" in f for f in flows)
    assert any("table=82" in f and "tcp" in f and "tp_dst=22" in f and "resubmit(,92)" in f for f in flows)
    assert any("table=92" in f and "ct(commit" in f and f"output:{tap}" in f for f in flows)
    with pytest.raises(ValueError, match="firewall_driver"):
        load_agent_config(None, host="h", firewall_driver="iptables")


def test_firewall_driver_settings() -> None:
    from neutrino.agent.config import AgentConfig
    from neutrino.agent.standalone import settings_for

    assert AgentConfig(host="h").ovs_hybrid_plug and not AgentConfig(host="h", firewall=False).ovs_hybrid_plug
    assert not AgentConfig(host="h", firewall_driver="openvswitch").ovs_hybrid_plug
    assert settings_for(AgentConfig(host="h", firewall=False, firewall_driver="openvswitch")).driver == "noop"
    assert settings_for(AgentConfig(host="h", datapath_type="netdev", firewall_driver="openvswitch")).driver == "openvswitch"
    with pytest.raises(ValueError, match="needs mechanism"):
        settings_for(AgentConfig(host="h", mechanism="linuxbridge", firewall_driver="openvswitch"))
