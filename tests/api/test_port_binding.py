"""Port binding through the API: live agents on the host, reachable segments, policy."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from neutrino.domain.models import NetworkSegment, PortBindingLevel
from tests.api.ml2_support import LB_AGENT, add_agent, error_type, ml2_server

pytestmark = pytest.mark.api

NT, PN, SEG = "provider:network_type", "provider:physical_network", "provider:segmentation_id"
HOST, VIF, DETAILS, VNIC, PROFILE = (
    "binding:host_id", "binding:vif_type", "binding:vif_details", "binding:vnic_type", "binding:profile",
)  # fmt: skip


@pytest.fixture
def ml2(tmp_path, database_url):
    with ml2_server(tmp_path, database_url) as pair:
        yield pair


@pytest.fixture
def api(ml2):
    return ml2[0]


def _levels(state, port_id):
    with state.sessions() as s:
        return [
            (lv.level, lv.host, lv.driver, lv.segment_id)
            for lv in s.scalars(select(PortBindingLevel).where(PortBindingLevel.port_id == port_id))
        ]


def _segment_id(state, network_id):
    with state.sessions() as s:
        return s.scalar(select(NetworkSegment.id).where(NetworkSegment.network_id == network_id))


def test_unbound_defaults(api):
    net = api.network()
    port = api.port(net["id"])
    assert (port[HOST], port[VNIC], port[PROFILE], port[VIF], port[DETAILS]) == ("", "normal", {}, "unbound", {})


def test_binds_with_live_ovs_agent(api, ml2):
    state = ml2[1]
    add_agent(state, "compute1", bridge_mappings={"physnet1": "br-eth1"}, tunnel_types=["vxlan"],
              datapath_type="netdev", ovs_hybrid_plug=True)  # fmt: skip
    vlan = api.network(**{NT: "vlan", PN: "physnet1", SEG: 101})
    port = api.port(vlan["id"], **{HOST: "compute1", PROFILE: {"pci_slot": "x"}})
    assert port[HOST] == "compute1" and port[VIF] == "ovs" and port[PROFILE] == {"pci_slot": "x"}
    assert port[DETAILS] == {
        "port_filter": True, "connectivity": "l2", "ovs_hybrid_plug": True, "datapath_type": "netdev",
        "bridge_name": "br-int", "bound_drivers": {"0": "openvswitch"},
    }  # fmt: skip
    assert port["status"] == "DOWN"
    assert _levels(state, port["id"]) == [(0, "compute1", "openvswitch", _segment_id(state, vlan["id"]))]
    shown = api.get(f"/v2.0/ports/{port['id']}").json()["port"]
    assert shown[VIF] == "ovs" and shown[DETAILS]["bound_drivers"] == {"0": "openvswitch"}

    vx = api.network()  # a project vxlan network
    assert api.port(vx["id"], **{HOST: "compute1"})[VIF] == "ovs"
    assert api.port(api.network(**{NT: "local"})["id"], **{HOST: "compute1"})[VIF] == "ovs"
    listed = api.get("/v2.0/ports?binding:host_id=compute1").json()["ports"]
    assert len(listed) == 3 and all(p[VIF] == "ovs" for p in listed)
    assert api.get("/v2.0/ports?binding:host_id=elsewhere").json()["ports"] == []


def test_vif_details_follow_the_agents_hybrid_plug(api, ml2):
    """Neutron's noop and openvswitch firewalls need no hybrid plug: the agent reports it, the
    binding's vif_details carry it, and Nova/os-vif (here the lab) plug the tap straight on br-int."""
    add_agent(ml2[1], "compute9", bridge_mappings={"physnet1": "br-eth1"}, datapath_type="netdev", ovs_hybrid_plug=False)
    port = api.port(api.network(**{NT: "vlan", PN: "physnet1", SEG: 109})["id"], **{HOST: "compute9"})
    assert port[VIF] == "ovs" and port[DETAILS]["ovs_hybrid_plug"] is False


def test_binding_failures(api, ml2):
    state = ml2[1]
    add_agent(state, "dead-host", bridge_mappings={"physnet1": "br-eth1"}, dead=True)
    add_agent(state, "vlan-only", bridge_mappings={"physnet2": "br-eth2"})
    add_agent(state, "lb-host", agent_type=LB_AGENT, interface_mappings={"physnet1": "eth1"})
    vlan = api.network(**{NT: "vlan", PN: "physnet1", SEG: 102})
    for host in ("dead-host", "vlan-only", "lb-host", "no-agent"):
        port = api.port(vlan["id"], **{HOST: host})
        assert port[VIF] == "binding_failed" and port[DETAILS] == {}, host
        assert _levels(state, port["id"]) == []
    tunnel = api.network(**{NT: "vxlan", SEG: 50})
    assert api.port(tunnel["id"], **{HOST: "vlan-only"})[VIF] == "binding_failed"  # no tunnel_types
    direct = api.port(vlan["id"], **{HOST: "vlan-only", VNIC: "direct"})
    assert direct[VIF] == "binding_failed"


def test_rebinding_on_update(api, ml2):
    state = ml2[1]
    net = api.network(**{NT: "vlan", PN: "physnet1", SEG: 103})
    port = api.port(net["id"], **{HOST: "compute2"})
    assert port[VIF] == "binding_failed"
    # the agent shows up; any update of a failed binding tries again (as Neutron does)
    add_agent(state, "compute2", bridge_mappings={"physnet1": "br-eth1"})
    r = api.put(f"/v2.0/ports/{port['id']}", {"port": {"name": "again"}})
    assert r.status_code == 200
    updated = r.json()["port"]
    assert updated[VIF] == "ovs" and updated["revision_number"] == port["revision_number"] + 1
    # unbinding
    r = api.put(f"/v2.0/ports/{port['id']}", {"port": {HOST: ""}})
    assert r.json()["port"][VIF] == "unbound" and r.json()["port"][DETAILS] == {}
    assert _levels(state, port["id"]) == []
    # binding on update, and moving to a host that cannot bind it
    r = api.put(f"/v2.0/ports/{port['id']}", {"port": {HOST: "compute2"}})
    assert r.json()["port"][VIF] == "ovs" and len(_levels(state, port["id"])) == 1
    r = api.put(f"/v2.0/ports/{port['id']}", {"port": {HOST: "compute3"}})
    assert r.json()["port"][VIF] == "binding_failed" and _levels(state, port["id"]) == []
    # same values: no change, no new revision
    before = api.get(f"/v2.0/ports/{port['id']}").json()["port"]
    add_agent(state, "compute3", bridge_mappings={})
    r = api.put(f"/v2.0/ports/{port['id']}", {"port": {HOST: "compute3"}})
    assert r.json()["port"]["revision_number"] == before["revision_number"]
    assert api.delete(f"/v2.0/ports/{port['id']}").status_code == 204
    assert _levels(state, port["id"]) == []


def test_member_policy(api, ml2):
    add_agent(ml2[1], "compute1", tunnel_types=["vxlan"])
    member = api.as_project("p1")
    net = member.network()
    for attrs in ({HOST: "compute1"}, {PROFILE: {}}):
        r = member.post("/v2.0/ports", {"port": {"network_id": net["id"], **attrs}})
        assert r.status_code == 403 and error_type(r) == "PolicyNotAuthorized", attrs
    port = member.port(net["id"], **{VNIC: "direct"})
    assert port[VNIC] == "direct"
    assert not {HOST, VIF, DETAILS, PROFILE} & set(port)
    r = member.post("/v2.0/ports", {"port": {"network_id": net["id"], VNIC: "nonsense"}})
    assert r.status_code == 400
    assert member.put(f"/v2.0/ports/{port['id']}", {"port": {HOST: "compute1"}}).status_code == 403
    # the admin binds the member's port; the member still sees only the vnic type
    r = api.put(f"/v2.0/ports/{port['id']}", {"port": {HOST: "compute1", VNIC: "normal"}})
    assert r.status_code == 200 and r.json()["port"][VIF] == "ovs"
    seen = member.get(f"/v2.0/ports/{port['id']}").json()["port"]
    assert seen[VNIC] == "normal" and VIF not in seen
    assert all(VIF not in p for p in member.get("/v2.0/ports").json()["ports"])


def test_driver_order(tmp_path, database_url):
    """Drivers are tried in the configured order: with both agents on a host, the first wins."""
    with ml2_server(tmp_path, database_url, mechanism_drivers=["linuxbridge", "openvswitch"]) as (api, state):
        add_agent(state, "both", bridge_mappings={"physnet1": "br-eth1"})
        add_agent(state, "both", agent_type=LB_AGENT, interface_mappings={"physnet1": "eth1"})
        add_agent(state, "ovs-only", bridge_mappings={"physnet1": "br-eth1"})
        net = api.network(**{NT: "flat", PN: "physnet1"})
        lb = api.port(net["id"], **{HOST: "both"})
        assert lb[VIF] == "bridge" and lb[DETAILS] == {
            "port_filter": True, "connectivity": "l2", "bound_drivers": {"0": "linuxbridge"},
        }  # fmt: skip
        assert api.port(net["id"], **{HOST: "ovs-only"})[VIF] == "ovs"


def test_bound_port_waits_for_its_agent(api, ml2):
    """Binding hands the port to port status: an instance port gets an L2 provisioning block."""
    from neutrino.domain.models import ProvisioningBlock

    state = ml2[1]
    add_agent(state, "compute1", tunnel_types=["vxlan"])
    net = api.network()
    vm = api.port(net["id"], device_owner="compute:nova", **{HOST: "compute1"})
    dhcp = api.port(net["id"], device_owner="network:dhcp", **{HOST: "compute1"})
    later = api.port(net["id"], device_owner="compute:nova")
    api.put(f"/v2.0/ports/{later['id']}", {"port": {HOST: "compute1"}})
    with state.sessions() as s:
        blocks = set(s.execute(select(ProvisioningBlock.resource_id, ProvisioningBlock.entity)).all())
    assert blocks == {(vm["id"], "L2"), (later["id"], "L2")}
    assert dhcp[VIF] == "ovs" and vm["status"] == "DOWN"
