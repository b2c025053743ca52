"""The agent runner with ``mechanism = "linuxbridge"``: the Linux bridge L2 reconciler, the
kernel plug for DHCP and L3 ports, and what it reports so that the mechanism driver binds."""

from __future__ import annotations

from typing import Any

import pytest

from neutrino.agent.adapters import AgentAdapters
from neutrino.dataplane.fake_dnsmasq import FakeDhcpServers
from neutrino.agent.l2.bridge_reconciler import LinuxbridgeL2Reconciler
from neutrino.agent.plug import BridgePlug
from neutrino.agent.runner import AgentSettings, HostAgent
from neutrino.bus.inproc import InProcTransport
from neutrino.dataplane.fake import FakeAnnouncer, FakeNetlink, FakeNftables
from neutrino.dataplane.fake_vxlan import FakeVxlan
from neutrino.dataplane.host import HostContext

pytestmark = pytest.mark.unit


class Reports:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def report_state(self, **kw: Any) -> None:
        self.sent.append(kw)


def test_linuxbridge_agent_reports_as_neutrons_and_plugs_without_ovs(tmp_path):
    netlink = FakeNetlink()
    adapters = AgentAdapters(netlink=netlink, nftables=FakeNftables(netlink), vxlan=FakeVxlan(netlink, vlan=False),
                             announcer=FakeAnnouncer(), dhcp_servers=FakeDhcpServers())  # fmt: skip
    settings = AgentSettings(roles=("l2", "dhcp", "l3"), tunnel_types=["vxlan"], tunneling_ip="172.31.0.2",
                             mechanism="linuxbridge", interface_mappings={"physnet1": "eth1"}, state_dir=tmp_path,
                             arp_proxy=False)  # fmt: skip
    agent = HostAgent(HostContext(name="c1"), InProcTransport(), settings, adapters)
    assert isinstance(agent.l2, LinuxbridgeL2Reconciler) and agent.switch is None
    assert isinstance(agent.dhcp.ovsdb, BridgePlug) and isinstance(agent.l3.ovsdb, BridgePlug)  # type: ignore[union-attr]
    assert agent.l2.cfg.arp_proxy is False and agent.l2.cfg.vlan_capable is False
    reports = Reports()
    agent.client = reports  # type: ignore[assignment]
    agent.report()
    by_type = {r["agent_type"]: r for r in reports.sent}
    lb = by_type["Linux bridge agent"]
    assert lb["binary"] == "neutron-linuxbridge-agent"
    conf = lb["configurations"]
    assert conf["interface_mappings"] == {"physnet1": "eth1"} and conf["tunnel_types"] == ["vxlan"]
    assert conf["tunneling_ip"] == "172.31.0.2" and conf["vlan_subinterfaces"] is False
    assert by_type["DHCP agent"]["configurations"]["interface_driver"] == "linuxbridge"
    assert "Open vSwitch agent" not in by_type
