"""network-segment-range through the HTTP API: the default ranges from the configuration,
admin CRUD, project networks taking ids from their project's range first, and the refusals."""

from __future__ import annotations

import pytest

from tests.api.ml2_support import add_agent, ml2_server

pytestmark = pytest.mark.api

RANGES = "/v2.0/network-segment-ranges"


def _err(r):  # type: ignore[no-untyped-def]
    return r.status_code, r.json()["NeutronError"]["type"]


def _seg(api, net_id):  # type: ignore[no-untyped-def]
    return api.get(f"/v2.0/networks/{net_id}").json()["network"]["provider:segmentation_id"]


def test_default_ranges_crud_and_project_allocation(tmp_path, database_url):
    with ml2_server(tmp_path, database_url, vni_ranges=["1:100"], tenant_network_types=["vxlan"]) as (api, _state):
        listed = api.get(RANGES).json()["network_segment_ranges"]
        defaults = {(r["network_type"], r["physical_network"], r["minimum"], r["maximum"]) for r in listed}
        assert ("vxlan", None, 1, 100) in defaults and ("vlan", "physnet1", 100, 199) in defaults
        assert all(r["default"] and r["shared"] and r["project_id"] is None for r in listed)
        default_vxlan = next(r for r in listed if r["network_type"] == "vxlan")
        assert _err(api.delete(f"{RANGES}/{default_vxlan['id']}")) == (400, "NetworkSegmentRangeDefaultReadOnly")

        member = api.as_project("pa")
        assert member.get(RANGES).json()["network_segment_ranges"] == []
        body = {"network_type": "vxlan", "minimum": 500, "maximum": 502, "shared": False, "project_id": "pa"}
        assert _err(member.post(RANGES, {"network_segment_range": body}))[0] == 403
        r = api.post(RANGES, {"network_segment_range": {"name": "pa", **body}})
        assert r.status_code == 201, r.text
        created = r.json()["network_segment_range"]
        assert (created["default"], created["shared"], created["project_id"]) == (False, False, "pa")
        assert created["available"] == [500, 501, 502] and created["used"] == {}
        overlapping = dict(body, minimum=502, maximum=510)
        assert _err(api.post(RANGES, {"network_segment_range": overlapping})) == (409, "NetworkSegmentRangeOverlaps")
        assert _err(api.post(RANGES, {"network_segment_range": dict(body, network_type="flat")}))[0] == 400

        # the project's networks take their ids from its range, out of the configured ones
        nets = [member.network()["id"] for _ in range(3)]
        assert sorted(_seg(api, n) for n in nets) == [500, 501, 502]
        other = api.as_project("pb").network()
        assert 1 <= _seg(api, other["id"]) <= 100
        shown = api.get(f"{RANGES}/{created['id']}").json()["network_segment_range"]
        assert shown["available"] == [] and set(shown["used"].values()) == {"pa"}
        # a range holding segments cannot shrink past them nor go
        path = f"{RANGES}/{created['id']}"
        assert _err(api.put(path, {"network_segment_range": {"minimum": 501}})) == (
            409, "NetworkSegmentRangeReferencedByProject",
        )  # fmt: skip
        r = api.put(path, {"network_segment_range": {"name": "wider", "minimum": 500, "maximum": 505}})
        assert r.status_code == 200 and r.json()["network_segment_range"]["maximum"] == 505
        assert _err(api.delete(path)) == (409, "NetworkSegmentRangeReferencedByProject")
        for n in nets:
            assert member.delete(f"/v2.0/networks/{n}").status_code == 204
        assert api.delete(path).status_code == 204
        assert api.get(path).status_code == 404
        # its ids are gone from the allocation table: the project now takes configured ids
        assert 1 <= _seg(api, member.network()["id"]) <= 100


def test_multi_provider_network(tmp_path, database_url):
    with ml2_server(tmp_path, database_url) as (api, _state):
        segs = [
            {"provider:network_type": "vlan", "provider:physical_network": "physnet1", "provider:segmentation_id": 150},
            {"provider:network_type": "vxlan"},
        ]
        r = api.post("/v2.0/networks", {"network": {"name": "mp", "segments": segs}})
        assert r.status_code == 201, r.text
        net = r.json()["network"]
        assert "provider:network_type" not in net
        [vlan, vxlan] = net["segments"]
        assert vlan == segs[0]
        assert vxlan["provider:network_type"] == "vxlan" and vxlan["provider:physical_network"] is None
        assert 1 <= vxlan["provider:segmentation_id"] <= 1000
        assert api.get(f"/v2.0/networks/{net['id']}").json()["network"]["segments"] == net["segments"]
        segments = api.get("/v2.0/segments", params={"network_id": net["id"]}).json()["segments"]
        assert {s["network_type"] for s in segments} == {"vlan", "vxlan"}
        # the MTU is the smallest the segments carry (VXLAN's overhead)
        assert net["mtu"] == 1450
        # the same VLAN again is in use; both forms at once, duplicates and members are refused
        again = api.post("/v2.0/networks", {"network": {"segments": segs[:1]}})
        assert _err(again) == (409, "VlanIdInUse")
        both = {"segments": segs[1:], "provider:network_type": "vxlan"}
        assert _err(api.post("/v2.0/networks", {"network": both})) == (400, "SegmentsSetInConjunctionWithProviders")
        dup = {"segments": [segs[0], segs[0]]}
        assert _err(api.post("/v2.0/networks", {"network": dup})) == (400, "SegmentsContainDuplicateEntry")
        assert _err(api.as_project("pa").post("/v2.0/networks", {"network": {"segments": segs[1:]}}))[0] == 403
        # a one-segment network shows the provider attributes, not the list
        single = api.post("/v2.0/networks", {"network": {"segments": segs[1:]}}).json()["network"]
        assert "segments" not in single and single["provider:network_type"] == "vxlan"
        assert api.delete(f"/v2.0/networks/{net['id']}").status_code == 204
        assert api.post("/v2.0/networks", {"network": {"segments": segs[:1]}}).status_code == 201


def test_segments_write_api(tmp_path, database_url):
    with ml2_server(tmp_path, database_url) as (api, _state):
        net = api.post("/v2.0/networks", {"network": {"provider:network_type": "vxlan"}}).json()["network"]
        [first] = api.get("/v2.0/segments", params={"network_id": net["id"]}).json()["segments"]
        assert first["name"] is None and first["revision_number"] == 0 and first["created_at"]
        body = {"network_id": net["id"], "network_type": "vlan", "physical_network": "physnet1", "name": "s2"}
        member = api.as_project("pa")
        assert _err(member.post("/v2.0/segments", {"segment": body}))[0] == 403
        r = api.post("/v2.0/segments", {"segment": body})
        assert r.status_code == 201, r.text
        added = r.json()["segment"]
        assert added["name"] == "s2" and 100 <= added["segmentation_id"] <= 199
        shown = api.get(f"/v2.0/networks/{net['id']}").json()["network"]
        assert [s["provider:network_type"] for s in shown["segments"]] == ["vxlan", "vlan"]
        r = api.put(f"/v2.0/segments/{first['id']}", {"segment": {"name": "first", "description": "d"}})
        assert r.json()["segment"]["name"] == "first" and r.json()["segment"]["revision_number"] == 1
        assert _err(api.put(f"/v2.0/segments/{first['id']}", {"segment": {"segmentation_id": 5}}))[0] == 400
        missing = dict(body, network_id="9a0e7d5f-0000-4000-8000-000000000000")
        assert _err(api.post("/v2.0/segments", {"segment": missing})) == (404, "NetworkNotFound")
        taken = dict(body, segmentation_id=added["segmentation_id"])
        assert _err(api.post("/v2.0/segments", {"segment": taken})) == (409, "VlanIdInUse")
        assert api.delete(f"/v2.0/segments/{added['id']}").status_code == 204
        assert _err(api.get(f"/v2.0/segments/{added['id']}")) == (404, "SegmentNotFound")
        # its VLAN went back to the pool
        again = api.post("/v2.0/segments", {"segment": dict(body, segmentation_id=added["segmentation_id"])})
        assert again.status_code == 201


def test_a_bound_segment_cannot_be_deleted_and_binding_picks_a_reachable_segment(tmp_path, database_url):
    with ml2_server(tmp_path, database_url) as (api, state):
        add_agent(state, "compute1", bridge_mappings={"physnet1": "br-eth1"})  # no tunnels: VLAN only
        segs = [{"provider:network_type": "vxlan"},
                {"provider:network_type": "vlan", "provider:physical_network": "physnet1"}]  # fmt: skip
        net = api.post("/v2.0/networks", {"network": {"segments": segs}}).json()["network"]
        body = {"network_id": net["id"], "binding:host_id": "compute1", "device_owner": "compute:nova"}
        port = api.post("/v2.0/ports", {"port": body}).json()["port"]
        assert port["binding:vif_type"] == "ovs", port
        listed = api.get("/v2.0/segments", params={"network_id": net["id"]}).json()["segments"]
        vxlan, vlan = sorted(listed, key=lambda s: s["network_type"], reverse=True)
        assert (vxlan["network_type"], vlan["network_type"]) == ("vxlan", "vlan")
        r = api.delete(f"/v2.0/segments/{vlan['id']}")
        assert _err(r) == (409, "SegmentInUse") and "still bound with 1 port(s)" in r.json()["NeutronError"]["message"]
        assert api.delete(f"/v2.0/segments/{vxlan['id']}").status_code == 204
        assert api.delete(f"/v2.0/ports/{port['id']}").status_code == 204
        assert api.delete(f"/v2.0/segments/{vlan['id']}").status_code == 204
