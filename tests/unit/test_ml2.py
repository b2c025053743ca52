"""ML2 pure logic: range options, allocation choice, MTU per type, driver loading and binding."""

from __future__ import annotations

import random
from importlib.metadata import EntryPoint

import pytest

from neutrino import errors
from neutrino.domain.ml2 import manager as ml2_manager
from neutrino.domain.ml2.api import MechanismDriver, NetworkContext, PortContext, Segment
from neutrino.domain.ml2.mechanisms.linuxbridge import LinuxbridgeMechanismDriver
from neutrino.domain.ml2.mechanisms.openvswitch import OpenvswitchMechanismDriver
from neutrino.domain.ml2.types import mtu, ranges
from neutrino.domain.config import DomainConfig
from neutrino.domain.services.enabled import assemble

pytestmark = pytest.mark.unit


# --- ranges -----------------------------------------------------------------------------------


def test_vlan_ranges():
    parsed = ranges.parse_vlan_ranges(["physnet1:100:199", "physnet2", " physnet1:300:300 "])
    assert parsed == {"physnet1": [(100, 199), (300, 300)], "physnet2": []}
    assert ranges.ids_in(parsed["physnet1"]) == set(range(100, 200)) | {300}
    assert ranges.covered(150, parsed["physnet1"]) and not ranges.covered(200, parsed["physnet1"])


@pytest.mark.parametrize(
    "entry, reason",
    [
        ("physnet1:0:10", "0 is not in 1..4094"),
        ("physnet1:1:4095", "4095 is not in 1..4094"),
        ("physnet1:20:10", "minimum 20 is above maximum 10"),
        ("physnet1:a:b", "must be integers"),
        ("physnet1:10", "expected 'min:max'"),
        (":1:2", "missing physical network"),
    ],
)
def test_bad_vlan_ranges(entry, reason):
    with pytest.raises(ranges.RangeError, match=reason):
        ranges.parse_vlan_ranges([entry])


def test_tunnel_ranges():
    assert ranges.parse_tunnel_ranges(["1:1000", "2000:2001"]) == [(1, 1000), (2000, 2001)]
    for bad in ("0:10", "1:16777216", "5", "9:1"):
        with pytest.raises(ranges.RangeError, match="Invalid network tunnel range"):
            ranges.parse_tunnel_ranges([bad])


def test_flat_networks():
    assert ranges.parse_flat_networks(["*"]) is None
    assert ranges.parse_flat_networks([]) == frozenset()
    assert ranges.parse_flat_networks(["a", " b"]) == {"a", "b"}


def test_allocation_choice():
    assert ranges.choose([]) is None
    rows = [(("physnet1",), i) for i in range(100)]
    picks = {ranges.choose(rows, random.Random(seed)) for seed in range(50)}
    assert picks <= set(rows) and len(picks) > 10  # spread out, so racing allocators rarely collide


# --- MTU --------------------------------------------------------------------------------------


def test_mtu_by_type():
    assert mtu.physical_mtu(1500, {}, "physnet1") == 1500
    assert mtu.physical_mtu(1500, {"physnet1": 9000}, "physnet1") == 1500
    assert mtu.physical_mtu(9000, {"physnet1": 1400}, "physnet1") == 1400
    assert mtu.tunnel_mtu(1500, 0, mtu.VXLAN_ENCAP_OVERHEAD) == 1450
    assert mtu.tunnel_mtu(1500, 0, 30) == 1450  # geneve, max_header_size 30
    assert mtu.tunnel_mtu(9000, 1600, mtu.VXLAN_ENCAP_OVERHEAD) == 1550
    assert mtu.tunnel_mtu(1500, 0, mtu.VXLAN_ENCAP_OVERHEAD, ip_version=6) == 1430
    assert mtu.tunnel_mtu(0, 0, 30) == 0
    assert mtu.network_mtu([1450, 1500], 1500) == 1450
    assert mtu.network_mtu([0], 1500) == 1500


def test_driver_mtus():
    cfg = DomainConfig(global_physnet_mtu=1500, physical_network_mtus={"physnet3": 1400})
    mgr = ml2_manager.Manager(cfg)
    assert mgr.network_mtu([Segment("vxlan", None, 5)]) == 1450
    assert mgr.network_mtu([Segment("geneve", None, 5)]) == 1450
    assert mgr.network_mtu([Segment("vlan", "physnet1", 5)]) == 1500
    assert mgr.network_mtu([Segment("flat", "physnet3")]) == 1400
    assert mgr.network_mtu([Segment("local")]) == 1500


# --- driver loading ---------------------------------------------------------------------------


class RecordingDriver(MechanismDriver):
    calls: list[str] = []

    def create_port_precommit(self, context):  # type: ignore[no-untyped-def]
        self.calls.append(self.name)

    def bind_port(self, context):  # type: ignore[no-untyped-def]
        return None


class OtherDriver(RecordingDriver):
    pass


def _fake_entry_points(group):  # type: ignore[no-untyped-def]
    """The installed drivers plus two test mechanism drivers, as a third-party package adds them."""
    found = list(ml2_manager.installed_entry_points(group))
    if group == ml2_manager.MECHANISM_GROUP:
        found += [
            EntryPoint("recorder", f"{__name__}:RecordingDriver", group),
            EntryPoint("other", f"{__name__}:OtherDriver", group),
            EntryPoint("broken", "neutrino.no_such_module:X", group),
        ]
    return found


def test_drivers_from_entry_points_in_configured_order():
    cfg = DomainConfig(mechanism_drivers=("other", "openvswitch", "recorder"))
    mgr = ml2_manager.Manager(cfg, source=_fake_entry_points)
    assert [d.name for d in mgr.mechanism_drivers] == ["other", "openvswitch", "recorder"]
    assert list(mgr.type_drivers) == ["local", "flat", "vlan", "vxlan", "geneve"]
    assert mgr.wants("create_port") and not mgr.wants("delete_network")
    RecordingDriver.calls = []
    mgr.notify(None, "create_port", object())  # type: ignore[arg-type]
    assert RecordingDriver.calls == ["other", "recorder"]


@pytest.mark.parametrize(
    "cfg, message",
    [
        (DomainConfig(mechanism_drivers=("nope",)), "unknown ML2 mechanism driver 'nope' \\(installed: "),
        (DomainConfig(type_drivers=("vlan", "gre")), "unknown ML2 type driver 'gre'"),
        (DomainConfig(mechanism_drivers=("broken",)), "'broken' cannot be loaded"),
        (DomainConfig(mechanism_drivers=("other", "other")), "configured twice"),
        (DomainConfig(type_drivers=("vlan",), tenant_network_types=("vxlan",)), "tenant network type 'vxlan'"),
        (DomainConfig(network_vlan_ranges=("physnet1:5:1",)), "type driver 'vlan': Invalid network VLAN range"),
    ],
)
def test_bad_driver_configuration(cfg, message):
    with pytest.raises(ml2_manager.DriverLoadError, match=message):
        ml2_manager.Manager(cfg, source=_fake_entry_points)


def test_each_assembled_domain_has_its_own_manager_and_extensions():
    first = assemble(DomainConfig(vni_ranges=("1:10",)))
    second = assemble(DomainConfig(vni_ranges=("1:10",)))
    assert first.ml2 is not second.ml2 and first.ml2.cfg == second.ml2.cfg == first.settings()
    assert not set(map(id, first.port_extensions)) & set(map(id, second.port_extensions))
    assert first.settings() == DomainConfig(vni_ranges=("1:10",))


# --- binding ----------------------------------------------------------------------------------

CFG = DomainConfig()


def _port(segments, host="h1", agents=None, vnic="normal"):  # type: ignore[no-untyped-def]
    agents = agents or {}
    network = NetworkContext({"id": "n"}, segments, None, CFG)  # type: ignore[arg-type]
    return PortContext(
        {"id": "p", "binding:host_id": host, "binding:vnic_type": vnic},
        network,
        None,  # type: ignore[arg-type]
        CFG,
        agent_lookup=lambda host, agent_type: agents.get((host, agent_type), []),
    )


def _ovs(**conf):  # type: ignore[no-untyped-def]
    return {"configurations": conf}


def test_agent_driver_binds_reachable_segment():
    mgr = ml2_manager.Manager(DomainConfig(mechanism_drivers=("openvswitch",)))
    vlan = Segment("vlan", "physnet1", 100, "s-vlan")
    vx = Segment("vxlan", None, 7, "s-vx")
    agents = {("h1", "Open vSwitch agent"): [_ovs(bridge_mappings={"physnet9": "br"}, tunnel_types=["vxlan"])]}
    result = mgr.bind_port(_port([vlan, vx], agents=agents))
    assert result.vif_type == "ovs" and result.levels == [("openvswitch", "s-vx")]
    assert result.vif_details["bound_drivers"] == {"0": "openvswitch"}
    assert result.vif_details["ovs_hybrid_plug"] is True and result.vif_details["datapath_type"] == "system"
    assert mgr.bind_port(_port([vlan], agents=agents)).vif_type == "binding_failed"
    assert mgr.bind_port(_port([vx], agents=agents, vnic="direct")).vif_type == "binding_failed"
    assert mgr.bind_port(_port([vx], host="h2", agents=agents)).vif_type == "binding_failed"


def test_segment_reachability():
    ovs, lb = OpenvswitchMechanismDriver(CFG), LinuxbridgeMechanismDriver(CFG)
    agent = _ovs(bridge_mappings={"p1": "br-p1"}, interface_mappings={"p2": "eth2"}, tunnel_types=["vxlan"])
    assert ovs.can_bind_segment(agent, Segment("flat", "p1"))
    assert not ovs.can_bind_segment(agent, Segment("flat", "p2"))
    assert lb.can_bind_segment(agent, Segment("vlan", "p2", 5))
    assert ovs.can_bind_segment(agent, Segment("local"))
    assert not ovs.can_bind_segment(agent, Segment("geneve", None, 3))


class Top(MechanismDriver):
    """Binds level 0 by handing a VLAN of the physnet to the next level (hierarchical)."""

    def bind_port(self, context):  # type: ignore[no-untyped-def]
        seg = context.segments_to_bind[0]
        if seg.network_type == "vxlan":
            context.continue_binding(seg.id, [Segment("vlan", "physnet1", 42, "s-dyn")])


class Bottom(MechanismDriver):
    def bind_port(self, context):  # type: ignore[no-untyped-def]
        seg = context.segments_to_bind[0]
        if seg.network_type == "vlan":
            context.set_binding(seg.id, "other", {"x": 1})


class Crashing(MechanismDriver):
    def bind_port(self, context):  # type: ignore[no-untyped-def]
        raise RuntimeError("driver bug")


def _source(group):  # type: ignore[no-untyped-def]
    found = list(ml2_manager.installed_entry_points(group))
    if group == ml2_manager.MECHANISM_GROUP:
        found += [EntryPoint(n, f"{__name__}:{c}", group) for n, c in (("top", "Top"), ("bottom", "Bottom"), ("crash", "Crashing"))]
    return found


def test_hierarchical_binding_and_broken_driver():
    mgr = ml2_manager.Manager(DomainConfig(mechanism_drivers=("crash", "top", "bottom")), source=_source)
    result = mgr.bind_port(_port([Segment("vxlan", None, 9, "s-vx")]))
    assert result.vif_type == "other" and result.levels == [("top", "s-vx"), ("bottom", "s-dyn")]
    assert result.vif_details == {"x": 1, "bound_drivers": {"0": "top", "1": "bottom"}}
    assert mgr.bind_port(_port([Segment("geneve", None, 9, "s-g")])).vif_type == "binding_failed"


def test_set_binding_checks_segment():
    context = _port([Segment("local", None, None, "s1")])
    context.segments_to_bind = list(context.network.network_segments)
    with pytest.raises(ValueError, match="not among the segments"):
        context.set_binding("other", "ovs", {})


def test_unknown_network_type_is_bad_input():
    mgr = ml2_manager.Manager(DomainConfig(type_drivers=("local",), tenant_network_types=("local",)))
    with pytest.raises(errors.InvalidInput, match="network_type value 'vlan' not supported"):
        mgr.type_driver("vlan")


def test_postcommit_after_commit_only():
    from sqlalchemy import create_engine, text
    from sqlalchemy.orm import Session

    engine = create_engine("sqlite://")
    ran: list[str] = []
    with Session(engine) as session:
        with session.begin():
            session.execute(text("select 1"))
            ml2_manager.after_commit(session, lambda: ran.append("committed"))
            assert ran == []
        assert ran == ["committed"]
        try:
            with session.begin():
                ml2_manager.after_commit(session, lambda: ran.append("rolled back"))
                raise RuntimeError
        except RuntimeError:
            pass
        with session.begin():
            session.execute(text("select 1"))
    assert ran == ["committed"]


def test_linuxbridge_agent_without_8021q_binds_no_vlan_segment():
    """An agent whose kernel cannot make VLAN subinterfaces says so; its VLAN ports fail to bind."""
    lb = LinuxbridgeMechanismDriver(CFG)
    agent = _ovs(interface_mappings={"p2": "eth2"}, tunnel_types=["vxlan"], vlan_subinterfaces=False)
    assert not lb.can_bind_segment(agent, Segment("vlan", "p2", 5))
    assert lb.can_bind_segment(agent, Segment("flat", "p2")) and lb.can_bind_segment(agent, Segment("vxlan", None, 9))
    mgr = ml2_manager.Manager(DomainConfig(mechanism_drivers=("linuxbridge",)))
    agents = {("h1", "Linux bridge agent"): [agent]}
    assert mgr.bind_port(_port([Segment("vlan", "p2", 5, "s-v")], agents=agents)).vif_type == "binding_failed"
    assert mgr.bind_port(_port([Segment("flat", "p2", None, "s-f")], agents=agents)).vif_type == "bridge"
