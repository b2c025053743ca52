"""AF_XDP or AF_PACKET for the OVS ports the lab plugs (agent/l2/ovs_port_types.py), and the
adapter's reading of vswitchd's ``iface_types``."""

from __future__ import annotations

import pytest

from neutrino.agent.l2.ovs_port_types import AFXDP, KERNEL_DEVICE_TYPES, choose
from neutrino.dataplane.offloads import parse_iface_types
from neutrino.lab import resolve, topology

pytestmark = pytest.mark.unit

BUILT_WITH_AFXDP = frozenset({"afxdp", AFXDP, "internal", "patch", "system", "tap", "vxlan"})


def ask(setting="afxdp", datapath="netdev", iface_types=BUILT_WITH_AFXDP, mtu=1500, offloaded=False):
    return choose(setting, datapath=datapath, iface_types=iface_types, mtu=mtu, offloaded=offloaded)


def test_afxdp_where_asked_built_and_safe():
    kind = ask()
    assert (kind.iface_type, kind.options) == (AFXDP, {"xdp-mode": "generic"})
    assert ask(mtu=None).iface_type == AFXDP  # the device's MTU unknown: the lab's default


@pytest.mark.parametrize(
    ("overrides", "why"),
    [
        ({"setting": "system"}, "ovs_port_type"),
        ({"datapath": "system"}, "kernel datapath"),
        ({"iface_types": frozenset({"system", "internal", "patch"})}, "built without AF_XDP"),
        ({"offloaded": True}, "offloaded packets"),
        ({"mtu": 9000}, "MTU 9000"),
    ],
)
def test_af_packet_otherwise_with_the_reason(overrides, why):
    kind = ask(**overrides)
    assert kind.iface_type is None and kind.options == {}
    assert why in kind.reason


def test_iface_types_as_ovs_vsctl_prints_them():
    printed = '[afxdp, afxdp-nonpmd, bareudp, erspan, geneve, gre, gtpu, internal, ip6erspan, ip6gre, lisp, patch, stt, system, tap, vxlan]\n'
    assert {"afxdp-nonpmd", "system", "vxlan"} <= parse_iface_types(printed)
    assert parse_iface_types('["afxdp-nonpmd", system]') == {"afxdp-nonpmd", "system"}
    assert parse_iface_types("[]\n") == frozenset()


def test_an_afxdp_wire_is_still_a_kernel_device_to_the_agent():
    """The agent reads a physical network's wire MTU from the kernel devices on its bridge."""
    assert {"", "system", AFXDP} <= set(KERNEL_DEVICE_TYPES)


def test_the_lab_file_asks_for_it_and_the_resolved_lab_keeps_it():
    assert resolve.resolve(topology.default_lab()).ovs_port_type == "system"
    lab = topology.parse({"defaults": {"ovs_port_type": "afxdp"}, "hosts": {"compute1": {"roles": ["compute"]}}})
    assert resolve.resolve(lab, name="afx").ovs_port_type == "afxdp"
    with pytest.raises(topology.LabFileError):
        topology.parse({"defaults": {"ovs_port_type": "dpdk"}, "hosts": {"compute1": {"roles": ["compute"]}}})


def test_a_port_vswitchd_could_not_open_as_afxdp_goes_back_to_af_packet(monkeypatch):
    from types import SimpleNamespace

    from neutrino.dataplane import offloads
    from neutrino.lab import ovs_port_plug

    retyped = []
    monkeypatch.setattr(offloads.HostOffloads, "interface_errors",
                        lambda self, names: {n: "could not open network device qvo1 (Operation not supported)"
                                             for n in names if n == "qvo1"})  # fmt: skip
    monkeypatch.setattr(offloads.HostOffloads, "set_interface_type", lambda self, name, kind: retyped.append((name, kind)))
    host = SimpleNamespace(name="compute1", context=None)
    assert ovs_port_plug.fall_back(host, ["eth1", "qvo1"]) == ["qvo1"]
    assert retyped == [("qvo1", "system")]
    assert ovs_port_plug.fall_back(host, []) == []
