"""Offload decisions (agent/l2/offloads.py) and their application per pass (offload_applier.py)."""

from __future__ import annotations

from dataclasses import dataclass


import pytest

from neutrino.agent.l2 import offloads
from neutrino.agent.l2.offload_applier import OffloadApplier
from neutrino.agent.l2.reconciler import L2Config, OvsL2Reconciler
from neutrino.dataplane.offloads import features, vnethdr
from tests.unit.test_l2_reconciler import VLAN, VXLAN, desired, plug, port, world  # noqa: F401 - fixture

pytestmark = pytest.mark.unit

OVS_31 = (3, 1, 0)


def facts(kernel=False, version=OVS_31, setting=None, active=None) -> offloads.SwitchFacts:
    return offloads.SwitchFacts(kernel_module=kernel, version=version, setting=setting, tso_active=active)


def test_parse_version():
    assert offloads.parse_version("ovs-vswitchd (Open vSwitch) 3.1.0") == (3, 1, 0)
    assert offloads.parse_version("ovs-vswitchd (Open vSwitch) 2.17.9-1") == (2, 17, 9)
    assert offloads.parse_version("") is None


def test_kernel_module_means_kernel_datapath_and_no_userspace_tso():
    d = offloads.decide(facts(kernel=True))
    assert (d.datapath_type, d.write_setting) == ("system", None)
    assert "kernel datapath" in d.message
    assert offloads.port_offload(d, "vxlan") and offloads.port_offload(d, "vlan")  # the kernel finishes them


def test_userspace_tso_is_written_only_for_userspace_tso_ports():
    default = offloads.decide(facts(active=False))
    assert (default.datapath_type, default.write_setting) == ("netdev", None)
    assert "userspace_tso_ports" in default.message and not offloads.port_offload(default, "vlan")
    d = offloads.decide(facts(active=False), tso_ports=True)
    assert (d.write_setting, d.tso_active) == ("true", False) and "restarts" in d.message
    assert not offloads.port_offload(d, "vlan")  # not active yet: checksums from the kernel
    again = offloads.decide(facts(setting="true", active=True), tso_ports=True)
    assert again.write_setting is None and again.tso_active and "use it" in again.message
    assert offloads.port_offload(again, "vlan") and offloads.port_offload(again, "flat")
    assert not offloads.port_offload(again, "vxlan") and not offloads.port_offload(again, "geneve")
    # a key someone else set true, without the setting: the kernel segments by the MSS
    other = offloads.decide(facts(setting="true", active=True))
    assert other.tso_active and not offloads.port_offload(other, "vlan") and "do not use" in other.message


def test_operator_false_and_unverified_or_unknown_versions_are_left_alone():
    off = offloads.decide(facts(setting="false", active=False), tso_ports=True)
    assert off.write_setting is None and "operator" in off.message and not offloads.port_offload(off, "vlan")
    for version in ((2, 17, 0), None):
        d = offloads.decide(facts(version=version, active=False), tso_ports=True)
        assert d.write_setting is None and not offloads.port_offload(d, "vlan")
    # a vswitchd someone started with TSO is still used as it is
    assert offloads.port_offload(offloads.decide(facts(version=(2, 17), setting="true", active=True), True), "vlan")


def test_wanted_tx_only_for_hybrid_plugs():
    d = offloads.decide(facts(setting="true", active=True), tso_ports=True)
    want = offloads.wanted_tx(d, [("qvoaaaa-1", "vlan"), ("qvobbbb-2", "vxlan"), ("tapdhcp", "vlan"), ("spi-x", None)])
    assert want == {"qvbaaaa-1": True, "qvbbbbb-2": False}


def test_features_parses_ethtool_k():
    text = "Features for qvb1:\nrx-checksumming: on\ntx-checksumming: off\n\ttx-checksum-ipv4: off [fixed]\n" \
           "tcp-segmentation-offload: off\n\ttx-tcp-segmentation: off [requested on]\n"  # fmt: skip
    assert features(text) == {"rx-checksumming": True, "tx-checksumming": False, "tx-checksum-ipv4": False,
                              "tcp-segmentation-offload": False, "tx-tcp-segmentation": False}  # fmt: skip


class FakeHost:
    """The HostOffloads and Netlink calls the applier makes, recorded."""

    def __init__(self, setting=None, active=True) -> None:
        self.setting, self.active = setting, active
        self.tx: dict[str, bool] = {}
        self.indexes: dict[str, int] = {}
        """device -> its ifindex."""
        self.calls: list[str] = []

    def vswitchd_version(self) -> str:
        self.calls.append("version")
        return "ovs-vswitchd (Open vSwitch) 3.1.0"

    def tso_setting(self):
        return self.setting

    def write_tso_setting(self, value: str) -> None:
        self.calls.append(f"write {value}")
        self.setting = value

    def tso_active(self):
        return self.active

    def tso_probe(self, version):
        self.calls.append("probe")
        return self.probe

    probe: tuple[bool, bool] | None = None

    def set_tx(self, dev: str, on: bool) -> bool:
        self.calls.append(f"ethtool {dev}")
        changed = self.tx.get(dev, True) != on
        self.tx[dev] = on
        return changed

    def link_indexes(self, netns=None):
        return dict(self.indexes)

    links_by_name: dict = {}

    def link(self, name, netns=None):
        return self.links_by_name.get(name)


def test_applier_writes_the_key_sets_qvb_per_network_type_and_is_idempotent(world):  # noqa: F811
    state, db, of, cfg = world
    host = FakeHost(setting=None, active=False)
    applier = OffloadApplier("c1", host, host, "ns", "netdev", tso_ports=True)
    r = OvsL2Reconciler(cfg, db, of, offloads=applier)
    a, b = "aaaaaaaa-0000-0000-0000-000000000001", "bbbbbbbb-0000-0000-0000-000000000002"
    qa, qb = plug(db, a), plug(db, b)
    host.indexes = {"qvb" + qa[3:]: 10, "qvb" + qb[3:]: 11}
    want = desired(port(a, "net1", VLAN), port(b, "net2", VXLAN))
    r.reconcile(want)
    assert "write true" in host.calls
    assert host.tx == {"qvb" + qa[3:]: False, "qvb" + qb[3:]: False}  # TSO not active yet: kernel checksums
    host.calls.clear()
    r.reconcile(want)
    assert host.calls == []  # nothing new: no ethtool, no detection

    # vswitchd restarted with TSO on: the resync detects it; the VLAN port now hands OVS offloads
    host.active = True
    r.resync()
    r.reconcile(want)
    assert host.tx == {"qvb" + qa[3:]: True, "qvb" + qb[3:]: False}
    assert not any(c.startswith("write") for c in host.calls)

    # b re-plugged (a fresh veth, new ifindex): checked again although the name is the same
    host.calls.clear()
    host.indexes["qvb" + qb[3:]] = 12
    r.reconcile(want)
    assert host.calls == ["ethtool qvb" + qb[3:]]


def test_applier_waits_for_br_int_and_kernel_datapath_needs_no_detection(world):  # noqa: F811
    state, db, of, cfg = world
    host = FakeHost(setting="true", active=None)
    applier = OffloadApplier("c1", host, host, "ns", "netdev", tso_ports=True)
    applier([])
    assert applier.decision is None  # no packet socket yet: decided again next time
    kernel = FakeHost()
    applier = OffloadApplier("c1", kernel, kernel, None, "system")
    kernel.indexes = {"qvbx": 1}
    assert applier([("qvox", "vxlan")]) == 0 and kernel.tx == {"qvbx": True}
    assert applier.decision is not None and applier.decision.datapath_type == "system"
    assert not any(c.startswith("write") for c in kernel.calls)


def test_reconciler_without_applier_is_unchanged(world):  # noqa: F811
    state, db, of, cfg = world
    assert OvsL2Reconciler(L2Config({}, [], None, "netdev"), db, of).offloads is None


def test_vnethdr_reads_the_flags_of_vswitchds_packet_sockets():
    head = "Netid Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n"
    sock = 'p_raw 0 0 *:{dev} * users:(("{prog}",pid=7,fd=3)) ino:1 sk:2\n\tver:0 cpy_thresh:0 flags( running auxdata{extra} )\n'
    on = head + sock.format(dev="qvo1", prog="ovs-vswitchd", extra=" vnethdr")
    off = head + sock.format(dev="qvo1", prog="ovs-vswitchd", extra="")
    other = head + sock.format(dev="eth0", prog="tcpdump", extra=" vnethdr")
    assert vnethdr(on, "ovs-vswitchd") is True
    assert vnethdr(off + sock.format(dev="eth1", prog="tcpdump", extra=" vnethdr"), "ovs-vswitchd") is False
    assert vnethdr(other, "ovs-vswitchd") is None and vnethdr(head, "ovs-vswitchd") is None


def test_applier_without_the_setting_writes_nothing_and_keeps_qvb_off(world):  # noqa: F811
    host = FakeHost(setting=None, active=False)
    host.indexes = {"qvba": 1}
    applier = OffloadApplier("c1", host, host, "ns", "netdev")
    applier([("qvoa", "vlan")])
    assert host.tx == {"qvba": False} and not any(c.startswith("write") for c in host.calls)


def test_applier_probes_once_and_follows_what_the_probe_found(world):  # noqa: F811
    """A vswitchd binary that keeps segment sizes and tunnels offloaded packets (not OVS 3.1):
    TSO without the operator's setting, and qvb offload on tunnelled networks too."""
    host = FakeHost(setting=None, active=False)
    host.probe = (True, True)
    host.indexes = {"qvba": 1, "qvbb": 2}
    applier = OffloadApplier("c1", host, host, "ns", "netdev")
    applier([("qvoa", "vlan"), ("qvob", "vxlan")])
    assert "write true" in host.calls and host.tx == {"qvba": False, "qvbb": False}  # not active yet
    host.active, host.setting = True, "true"
    applier.forget()
    applier([("qvoa", "vlan"), ("qvob", "vxlan")])
    assert host.tx == {"qvba": True, "qvbb": True} and host.calls.count("probe") == 1
    ovs31 = FakeHost(setting="true", active=True)
    ovs31.probe = (False, False)
    ovs31.indexes = {"qvba": 1, "qvbb": 2}
    OffloadApplier("c1", ovs31, ovs31, "ns", "netdev", tso_ports=True)([("qvoa", "vlan"), ("qvob", "vxlan")])
    assert ovs31.tx == {"qvba": True, "qvbb": False}
    kernel = FakeHost()
    OffloadApplier("c1", kernel, kernel, None, "system")([])
    assert "probe" not in kernel.calls


def test_a_network_below_its_wires_mtu_keeps_qvb_offload_off_where_ovs_cuts_by_the_mtu():
    """Measured: VLAN network at 1500 on 9000-byte links, TSO on: the stream stalled (OVS 3.1
    gives offloaded packets the wire's MTU as segment size)."""
    on = offloads.decide(facts(setting="true", active=True), tso_ports=True)
    ports = [("qvoa", "vlan", 1500, "physnet1"), ("qvob", "vlan", 9000, "physnet1"), ("qvoc", "flat", 1500, "physnet2"),
             ("qvod", "vlan")]  # fmt: skip
    assert offloads.wanted_tx(on, ports, {"physnet1": 9000}) == {"qvba": False, "qvbb": True, "qvbc": True, "qvbd": True}
    assert offloads.wanted_tx(on, ports)["qvba"]  # wire MTU unknown: as before
    keeps = offloads.decide(offloads.SwitchFacts(False, OVS_31, "true", True, True, False))
    assert offloads.wanted_tx(keeps, ports, {"physnet1": 9000})["qvba"]  # it keeps the segment size: no stall


def test_applier_reads_the_wire_mtu_from_the_physnet_bridges_devices(world):  # noqa: F811
    @dataclass
    class MtuLink:
        name: str
        address: str
        mtu: int

    host = FakeHost(setting="true", active=True)
    host.links_by_name = {"qvba": MtuLink("qvba", "02:00:00:00:00:01", 1500), "eth1": MtuLink("eth1", "02:00:00:00:00:09", 9000)}
    host.indexes = {"qvba": 5, "eth1": 6}
    applier = OffloadApplier("c1", host, host, "ns", "netdev", tso_ports=True)
    applier([("qvoa", "vlan", 1500, "physnet1")], {"physnet1": ["eth1"]})
    assert host.tx == {"qvba": False}
    applier([("qvoa", "vlan", 1500, "physnet1")], {"physnet1": ["gone"]})  # wire unknown: as before
    assert host.tx == {"qvba": True}
