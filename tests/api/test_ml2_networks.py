"""Provider and project networks through the API: segments, MTU, policy, external networks."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from neutrino.domain.models import FlatAllocation, NetworkSegment, VlanAllocation
from tests.api.ml2_support import error_type, ml2_server

pytestmark = pytest.mark.api

NT, PN, SEG = "provider:network_type", "provider:physical_network", "provider:segmentation_id"


@pytest.fixture
def ml2(tmp_path, database_url):
    with ml2_server(tmp_path, database_url) as pair:
        yield pair


@pytest.fixture
def api(ml2):
    return ml2[0]


def _create(api, **attrs):
    return api.post("/v2.0/networks", {"network": {"name": "n", **attrs}})


def _vlan_row(state, physnet, vlan_id):
    with state.sessions() as s:
        return s.scalar(
            select(VlanAllocation.allocated).where(
                VlanAllocation.physical_network == physnet, VlanAllocation.vlan_id == vlan_id
            )
        )


def test_allocation_rows_synced_at_start(ml2):
    _api, state = ml2
    with state.sessions() as s:
        vlans = s.scalars(select(VlanAllocation.vlan_id).where(VlanAllocation.physical_network == "physnet1")).all()
    assert sorted(vlans) == list(range(100, 200))
    assert _vlan_row(state, "physnet2", 11) is False


def test_flat(api, ml2):
    net = api.network(**{NT: "flat", PN: "physnet1"})
    assert (net[NT], net[PN], net[SEG], net["mtu"]) == ("flat", "physnet1", None, 1500)
    r = _create(api, **{NT: "flat", PN: "physnet1"})
    assert r.status_code == 409 and error_type(r) == "FlatNetworkInUse"
    assert "Physical network physnet1 is in use" in r.json()["NeutronError"]["message"]
    for bad in ({NT: "flat"}, {NT: "flat", PN: "nowhere"}, {NT: "flat", PN: "physnet2", SEG: 5}):
        r = _create(api, **bad)
        assert r.status_code == 400 and error_type(r) == "InvalidInput", (bad, r.text)
    assert api.get(f"/v2.0/networks/{net['id']}").json()["network"][PN] == "physnet1"
    assert api.delete(f"/v2.0/networks/{net['id']}").status_code == 204
    with ml2[1].sessions() as s:
        assert s.scalar(select(FlatAllocation.physical_network)) is None
    assert _create(api, **{NT: "flat", PN: "physnet1"}).status_code == 201


def test_vlan_given_and_allocated(api, ml2):
    state = ml2[1]
    given = api.network(**{NT: "vlan", PN: "physnet1", SEG: 150})
    assert (given[NT], given[PN], given[SEG], given["mtu"]) == ("vlan", "physnet1", 150, 1500)
    assert _vlan_row(state, "physnet1", 150) is True
    r = _create(api, **{NT: "vlan", PN: "physnet1", SEG: 150})
    assert r.status_code == 409 and error_type(r) == "VlanIdInUse"
    assert r.json()["NeutronError"]["message"] == (
        "Unable to create the network. The VLAN 150 on physical network physnet1 is in use."
    )
    # the same id on another physnet is another VLAN
    assert api.network(**{NT: "vlan", PN: "physnet2", SEG: 150})[SEG] == 150

    allocated = api.network(**{NT: "vlan", PN: "physnet1"})
    assert allocated[PN] == "physnet1" and 100 <= allocated[SEG] <= 199 and allocated[SEG] != 150
    assert _vlan_row(state, "physnet1", allocated[SEG]) is True
    anywhere = api.network(**{NT: "vlan"})
    assert anywhere[PN] in ("physnet1", "physnet2")

    # outside the configured range: allowed for an admin, its row goes with the network
    outside = api.network(**{NT: "vlan", PN: "physnet1", SEG: 300})
    assert _vlan_row(state, "physnet1", 300) is True
    api.delete(f"/v2.0/networks/{outside['id']}")
    assert _vlan_row(state, "physnet1", 300) is None
    # inside: released, then free to take again
    api.delete(f"/v2.0/networks/{given['id']}")
    assert _vlan_row(state, "physnet1", 150) is False
    assert api.network(**{NT: "vlan", PN: "physnet1", SEG: 150})[SEG] == 150


def test_vlan_bad_input(api):
    cases = {
        "segmentation_id requires physical_network": {NT: "vlan", SEG: 120},
        "physical_network 'nowhere' unknown for VLAN provider network": {NT: "vlan", PN: "nowhere", SEG: 120},
        "segmentation_id out of range (1 through 4094)": {NT: "vlan", PN: "physnet1", SEG: 5000},
        "network_type required": {PN: "physnet1"},
        "network_type value 'gre' not supported": {NT: "gre"},
        "physical_network prohibited for vxlan provider network": {NT: "vxlan", PN: "physnet1"},
        "physical_network prohibited for local provider network": {NT: "local", PN: "physnet1"},
    }
    for message, attrs in cases.items():
        r = _create(api, **attrs)
        assert r.status_code == 400 and error_type(r) == "InvalidInput", (attrs, r.text)
        assert message in r.json()["NeutronError"]["message"]
    r = _create(api, **{NT: "vlan", PN: "physnet1", SEG: "abc"})
    assert r.status_code == 400
    # a physnet without ranges takes only given ids
    r = _create(api, **{NT: "vlan", PN: "physnet3"})
    assert r.status_code == 503 and error_type(r) == "NoNetworkAvailable"
    assert api.network(**{NT: "vlan", PN: "physnet3", SEG: 7})["mtu"] == 1400
    assert len(api.get("/v2.0/networks").json()["networks"]) == 1  # nothing half-written


def test_tunnels_and_mtu(api):
    vx = api.network(**{NT: "vxlan", SEG: 77})
    assert (vx[NT], vx[PN], vx[SEG], vx["mtu"]) == ("vxlan", None, 77, 1450)
    r = _create(api, **{NT: "vxlan", SEG: 77})
    assert r.status_code == 409 and error_type(r) == "TunnelIdInUse"
    assert api.network(**{NT: "vxlan", SEG: 5000})[SEG] == 5000  # outside the range: a row of its own
    r = _create(api, **{NT: "vxlan", SEG: 2**24})
    assert r.status_code == 400
    gen = api.network(**{NT: "geneve"})
    assert gen[NT] == "geneve" and 1 <= gen[SEG] <= 100 and gen["mtu"] == 1450
    local = api.network(**{NT: "local"})
    assert (local[PN], local[SEG], local["mtu"]) == (None, None, 1500)
    ext = api.network(**{NT: "flat", PN: "physnet3"})
    assert ext["mtu"] == 1400  # physical_network_mtus


def test_project_networks_and_policy(api):
    member = api.as_project("p1")
    net = member.network()
    assert net["mtu"] == 1450 and net["router:external"] is False
    assert not any(k.startswith("provider:") for k in net)
    assert not any(k.startswith("provider:") for k in member.get(f"/v2.0/networks/{net['id']}").json()["network"])
    seen = api.get(f"/v2.0/networks/{net['id']}").json()["network"]
    assert seen[NT] == "vxlan" and 1 <= seen[SEG] <= 1000 and seen[PN] is None

    for attrs in ({NT: "vlan", PN: "physnet1", SEG: 120}, {SEG: 120}, {"router:external": True}):
        r = member.post("/v2.0/networks", {"network": attrs})
        assert r.status_code == 403 and error_type(r) == "PolicyNotAuthorized", attrs
    assert member.post("/v2.0/networks", {"network": {"router:external": False}}).status_code == 201
    r = member.put(f"/v2.0/networks/{net['id']}", {"network": {SEG: 99}})
    assert r.status_code == 403
    assert len(member.get("/v2.0/networks").json()["networks"]) == 2


def test_provider_update(api):
    net = api.network(**{NT: "vlan", PN: "physnet1", SEG: 120})
    r = api.put(f"/v2.0/networks/{net['id']}", {"network": {NT: "vlan", PN: "physnet1", SEG: 120, "name": "x"}})
    assert r.status_code == 200 and r.json()["network"]["name"] == "x"
    r = api.put(f"/v2.0/networks/{net['id']}", {"network": {SEG: 121}})
    assert r.status_code == 400 and "provider:segmentation_id" in r.json()["NeutronError"]["message"]
    assert api.get(f"/v2.0/networks/{net['id']}").json()["network"][SEG] == 120


def test_filters(api):
    vlan = api.network(**{NT: "vlan", PN: "physnet1", SEG: 130})
    vx = api.network(**{NT: "vxlan", SEG: 9})
    ext = api.network(**{NT: "flat", PN: "extnet", "router:external": True})

    def ids(query):
        r = api.get(f"/v2.0/networks?{query}")
        assert r.status_code == 200, r.text
        return {n["id"] for n in r.json()["networks"]}

    assert ids(f"{NT}=vlan") == {vlan["id"]}
    assert ids(f"{NT}=vxlan&{NT}=flat") == {vx["id"], ext["id"]}
    assert ids(f"{PN}=physnet1") == {vlan["id"]}
    assert ids(f"{SEG}=9") == {vx["id"]}
    assert ids("router:external=True") == {ext["id"]}
    assert ids("router:external=False") == {vlan["id"], vx["id"]}
    assert api.get("/v2.0/networks?sort_key=router:external&sort_dir=asc").status_code == 400


def test_external_networks(api, ml2):
    ext = api.network(name="public", **{"router:external": True, NT: "flat", PN: "extnet"})
    assert ext["router:external"] is True
    private = api.network(name="admin-private")
    member = api.as_project("p1")
    listed = {n["name"]: n for n in member.get("/v2.0/networks").json()["networks"]}
    assert set(listed) == {"public"} and listed["public"]["router:external"] is True
    assert NT not in listed["public"]
    assert member.get(f"/v2.0/networks/{ext['id']}").status_code == 200
    assert member.get(f"/v2.0/networks/{private['id']}").status_code == 404
    assert [n["name"] for n in member.get("/v2.0/networks?router:external=true").json()["networks"]] == ["public"]
    # visible is not writable
    assert member.put(f"/v2.0/networks/{ext['id']}", {"network": {"name": "x"}}).status_code == 403
    assert member.delete(f"/v2.0/networks/{ext['id']}").status_code == 403
    r = member.post("/v2.0/ports", {"port": {"network_id": ext["id"]}})
    assert r.status_code == 404

    # the flag changes by admin only, and not while routers use the network as a gateway
    r = api.put(f"/v2.0/networks/{private['id']}", {"network": {"router:external": True}})
    assert r.status_code == 200 and r.json()["network"]["router:external"] is True
    assert r.json()["network"]["revision_number"] == private["revision_number"] + 1
    api.port(ext["id"], device_owner="network:router_gateway")
    r = api.put(f"/v2.0/networks/{ext['id']}", {"network": {"router:external": False}})
    assert r.status_code == 409 and error_type(r) == "ExternalNetworkInUse"
    r = member.put(f"/v2.0/networks/{private['id']}", {"network": {"router:external": False}})
    assert r.status_code == 403


def test_network_delete_releases_segment(tmp_path, database_url):
    with ml2_server(tmp_path, database_url, vni_ranges=["1:2"], tenant_network_types=["vxlan"]) as (api, state):
        a, b = api.network(), api.network()
        seg_of = {n["id"]: api.get(f"/v2.0/networks/{n['id']}").json()["network"][SEG] for n in (a, b)}
        assert sorted(seg_of.values()) == [1, 2]
        r = api.post("/v2.0/networks", {"network": {"name": "third"}})
        assert r.status_code == 503 and error_type(r) == "NoNetworkAvailable"
        assert r.json()["NeutronError"]["message"] == (
            "Unable to create the network. No tenant network is available for allocation."
        )
        assert len(api.get("/v2.0/networks").json()["networks"]) == 2  # nothing half-written
        api.delete(f"/v2.0/networks/{a['id']}")
        with state.sessions() as s:
            assert s.scalar(select(NetworkSegment.id).where(NetworkSegment.network_id == a["id"])) is None
        assert api.network()[SEG] == seg_of[a["id"]]


def test_tenant_types_fall_through(tmp_path, database_url):
    """First type with a free segment wins: vxlan until it is full, then vlan."""
    overrides = {"vni_ranges": ["1:1"], "network_vlan_ranges": ["physnet1:100:100"], "tenant_network_types": ["vxlan", "vlan"]}
    with ml2_server(tmp_path, database_url, **overrides) as (api, _state):
        first, second = api.network(), api.network()
        assert (first[NT], first[SEG], first["mtu"]) == ("vxlan", 1, 1450)
        assert (second[NT], second[PN], second[SEG], second["mtu"]) == ("vlan", "physnet1", 100, 1500)
        assert _create(api).status_code == 503


def test_default_config_is_local(client):
    from tests.conftest import Api

    net = Api(client, "p-admin").network()
    assert (net[NT], net["mtu"], net["router:external"]) == ("local", 1500, False)


def test_ranges_resynced_at_restart(tmp_path, database_url):
    """New ids get rows, free ids no longer configured lose theirs, allocated ones stay."""
    with ml2_server(tmp_path, database_url) as (api, _state):
        kept = api.network(**{NT: "vlan", PN: "physnet1", SEG: 150})
    narrower = {"network_vlan_ranges": ["physnet1:180:189"]}
    with ml2_server(tmp_path, database_url, **narrower) as (api, state):
        with state.sessions() as s:
            rows = dict(s.execute(select(VlanAllocation.vlan_id, VlanAllocation.allocated)).all())
        assert rows == {**dict.fromkeys(range(180, 190), False), 150: True}
        api.delete(f"/v2.0/networks/{kept['id']}")
        assert _vlan_row(state, "physnet1", 150) is None  # now outside the ranges: deleted


def test_segments_view(api):
    vlan = api.network(**{NT: "vlan", PN: "physnet1", SEG: 140})
    api.network(**{NT: "vxlan", SEG: 12})
    listed = api.get("/v2.0/segments").json()["segments"]
    assert len(listed) == 2
    [seg] = api.get(f"/v2.0/segments?network_id={vlan['id']}").json()["segments"]
    assert (seg["network_type"], seg["physical_network"], seg["segmentation_id"]) == ("vlan", "physnet1", 140)
    assert api.get("/v2.0/segments?segmentation_id=12&fields=network_type").json()["segments"] == [
        {"network_type": "vxlan"}
    ]
    assert api.get(f"/v2.0/segments/{seg['id']}").json()["segment"] == seg
    member = api.as_project("p1")
    member.network()
    assert member.get("/v2.0/segments").json()["segments"] == []
    assert member.get(f"/v2.0/segments/{seg['id']}").status_code == 404
    assert api.get("/v2.0/segments/nope").status_code == 404
    assert api.get("/v2.0/segments?bogus=1").status_code == 400
    assert api.post("/v2.0/segments", {"segment": {}}).status_code == 400  # network_id, network_type required
