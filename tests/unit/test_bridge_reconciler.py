"""The Linux bridge L2 reconciler against the fake kernel: build, converge, restart, shrink."""

from __future__ import annotations

import pytest

from neutrino.agent.l2.bridge_reconciler import BridgeConfig, LinuxbridgeL2Reconciler
from neutrino.dataplane.fake import FakeNetlink
from neutrino.dataplane.fake_vxlan import FakeVxlan
from tests.unit.test_bridge_plan import NET_F, NET_X, P1, P2, STATE, tap

pytestmark = pytest.mark.unit
NS = "c1"


def host() -> tuple[FakeNetlink, FakeVxlan]:
    nl = FakeNetlink()
    nl.add_netns(NS)
    nl.add_veth("eth1", "peer1", netns=NS, peer_netns=None)
    for pid in (P1, P2):
        nl.add_veth(tap(pid), f"v{pid[:8]}", netns=NS, peer_netns=None)
    return nl, FakeVxlan(nl)


def agent(nl: FakeNetlink, vx: FakeVxlan) -> LinuxbridgeL2Reconciler:
    return LinuxbridgeL2Reconciler(BridgeConfig({"physnet1": "eth1"}, "172.31.0.2"), nl, vx, NS)


def test_first_pass_wires_everything_and_reports_the_ports_up():
    nl, vx = host()
    result = agent(nl, vx).reconcile(STATE)
    assert result.wired == sorted([P1, P2])
    brx, brf = "brq" + NET_X[:11], "brq" + NET_F[:11]
    assert nl.link(tap(P1), netns=NS).master == brx and nl.link("vxlan-1001", netns=NS).master == brx
    assert nl.link("eth1", netns=NS).master == brf and nl.link(brx, netns=NS).up
    assert ("fa:16:3e:00:00:02", "172.31.0.3") in vx.fdb(netns=NS)["vxlan-1001"]
    assert ("10.0.0.6", "fa:16:3e:00:00:02") in vx.neighbours(netns=NS)["vxlan-1001"]


def test_a_restarted_agent_changes_nothing():
    nl, vx = host()
    agent(nl, vx).reconcile(STATE)
    calls = vx.calls
    fresh = agent(nl, vx)
    assert fresh.taps_changed()  # never looked yet
    result = fresh.reconcile(STATE)
    assert result.ovsdb_commands == 0 and vx.calls == calls and result.wired == sorted([P1, P2])
    assert not fresh.taps_changed()


def test_a_network_gone_from_the_host_is_removed_and_its_port_reported_down():
    import dataclasses

    nl, vx = host()
    lb = agent(nl, vx)
    lb.reported(lb.reconcile(STATE))
    smaller = dataclasses.replace(STATE, ports=tuple(p for p in STATE.ports if p.port_id != P1))
    result = lb.reconcile(smaller)
    assert result.unwired == [P1]
    assert nl.link("brq" + NET_X[:11], netns=NS) is None and nl.link("vxlan-1001", netns=NS) is None
    assert nl.link(tap(P1), netns=NS).master is None
