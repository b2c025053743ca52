"""Real adapters and fakes keep the same protocols, down to parameter names."""

from __future__ import annotations

import inspect

import pytest

from neutrino.agent import plug

from neutrino.dataplane import conntrack, dnsmasq, fake, fake_dnsmasq, fake_ovs, fake_vxlan, garp, kernel_vxlan, netlink, nftables, openflow, ovs, ovsdb, ports

pytestmark = pytest.mark.unit

PAIRS = [
    (ports.Links, netlink.Netlink, fake.FakeNetlink),
    (ports.OvsDatabase, ovsdb.Ovsdb, fake_ovs.FakeOvsdb),
    (ports.Flows, openflow.OpenFlow, fake_ovs.FakeOpenFlow),
    (ports.Switch, ovs.OvsInstance, fake_ovs.FakeOvsInstance),
    (ports.Firewall, nftables.Nftables, fake.FakeNftables),
    (ports.NeighbourAnnouncer, garp.Announcer, fake.FakeAnnouncer),
    (ports.VxlanDevices, kernel_vxlan.KernelVxlan, fake_vxlan.FakeVxlan),
    (ports.ConnectionTracking, conntrack.Conntrack, fake.FakeConntrack),
    (ports.PortPlug, ovsdb.Ovsdb, plug.BridgePlug),
    (ports.DhcpServers, dnsmasq.DnsmasqServers, fake_dnsmasq.FakeDhcpServers),
    (ports.DhcpServer, dnsmasq.Dnsmasq, fake_dnsmasq.FakeDhcpServer),
]


def _params(fn: object) -> list[tuple[str, object]]:
    sig = inspect.signature(fn)  # type: ignore[arg-type]
    return [(p.name, p.kind) for p in sig.parameters.values() if p.name != "self"]


@pytest.mark.parametrize("protocol, real, fake_cls", PAIRS, ids=lambda c: getattr(c, "__name__", ""))
def test_same_methods_and_parameters(protocol, real, fake_cls):
    for name, member in vars(protocol).items():
        if name.startswith("_") or not callable(member):
            continue
        for impl in (real, fake_cls):
            assert hasattr(impl, name), f"{impl.__name__} lacks {name}"
            want = _params(member)
            got = _params(getattr(impl, name))[: len(want)]
            assert got == want, f"{impl.__name__}.{name}{got} != {protocol.__name__}.{name}{want}"
