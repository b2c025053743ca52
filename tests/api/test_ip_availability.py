"""network-ip-availability: totals from allocation pools, used from allocations, admin only."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.api


def test_totals_and_used(api):
    net = api.network(name="avail")
    empty = api.get(f"/v2.0/network-ip-availabilities/{net['id']}").json()["network_ip_availability"]
    assert empty == {"network_id": net["id"], "network_name": "avail", "project_id": "p-admin",
                     "tenant_id": "p-admin", "subnet_ip_availability": [], "used_ips": 0, "total_ips": 0}
    v4 = api.subnet(net["id"], "10.0.0.0/24", enable_dhcp=False)
    v6 = api.subnet(net["id"], "2001:db8::/120", enable_dhcp=False)
    api.port(net["id"])
    shown = api.get(f"/v2.0/network-ip-availabilities/{net['id']}").json()["network_ip_availability"]
    subs = {s["subnet_id"]: s for s in shown["subnet_ip_availability"]}
    assert subs[v4["id"]]["total_ips"] == 253 and subs[v4["id"]]["used_ips"] == 1
    assert subs[v6["id"]]["total_ips"] == 254 and subs[v6["id"]]["used_ips"] == 1
    assert subs[v4["id"]]["cidr"] == "10.0.0.0/24" and subs[v4["id"]]["ip_version"] == 4
    assert shown["total_ips"] == 507 and shown["used_ips"] == 2
    listed = api.get("/v2.0/network-ip-availabilities?ip_version=4").json()["network_ip_availabilities"]
    assert [s["subnet_id"] for n in listed for s in n["subnet_ip_availability"]] == [v4["id"]]
    assert api.get(f"/v2.0/network-ip-availabilities/{uuid.uuid4()}").status_code == 404
    member = api.as_project("p-admin")
    assert member.get("/v2.0/network-ip-availabilities").json()["network_ip_availabilities"] == []
    assert member.get(f"/v2.0/network-ip-availabilities/{net['id']}").status_code == 404


def test_segments_have_standard_attributes(api):
    """standard-attr-segment: description, timestamps, revision; name and description change."""
    net = api.network()
    [seg] = api.get(f"/v2.0/segments?network_id={net['id']}").json()["segments"]
    assert seg["name"] is None and seg["description"] == "" and seg["revision_number"] == 0
    assert seg["created_at"].endswith("Z") and seg["updated_at"] == seg["created_at"]
    r = api.put(f"/v2.0/segments/{seg['id']}", {"segment": {"name": "s1", "description": "d"}})
    assert r.status_code == 200, r.text
    assert r.json()["segment"]["name"] == "s1" and r.json()["segment"]["revision_number"] == 1
    assert api.get(f"/v2.0/segments/{seg['id']}").json()["segment"]["description"] == "d"
    assert api.put(f"/v2.0/segments/{seg['id']}", {"segment": {"network_type": "vlan"}}).status_code == 400
    assert api.as_project("p-x").put(f"/v2.0/segments/{seg['id']}", {"segment": {"name": "x"}}).status_code == 404
