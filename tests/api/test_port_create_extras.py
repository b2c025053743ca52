"""Ports: tags on create (tag-ports-during-bulk-creation) and MAC regeneration
(port-mac-address-regenerate)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.api


def test_tags_on_single_and_bulk_create(api):
    net = api.network()
    port = api.port(net["id"], tags=["b", "a"])
    assert port["tags"] == ["a", "b"]
    assert api.get(f"/v2.0/ports/{port['id']}").json()["port"]["tags"] == ["a", "b"]
    body = {"ports": [{"network_id": net["id"], "tags": ["t1", "t2"]}, {"network_id": net["id"]}]}
    r = api.post("/v2.0/ports", body)
    assert r.status_code == 201, r.text
    assert [p["tags"] for p in r.json()["ports"]] == [["t1", "t2"], []]
    assert len(api.get("/v2.0/ports?tags=t1").json()["ports"]) == 1
    # a bad tag fails the whole bulk request
    bad = {"ports": [{"network_id": net["id"], "tags": ["ok"]}, {"network_id": net["id"], "tags": ["a,b"]}]}
    assert api.post("/v2.0/ports", bad).status_code == 400
    assert len(api.get("/v2.0/ports?tags=ok").json()["ports"]) == 0


def test_mac_regenerate_only_when_unbound(api):
    net = api.network()
    port = api.port(net["id"])
    r = api.put(f"/v2.0/ports/{port['id']}", {"port": {"mac_address": None}})
    assert r.status_code == 200, r.text
    new = r.json()["port"]["mac_address"]
    assert new != port["mac_address"] and len(new) == 17
    member = api.as_project("p-admin", roles="member,reader")
    assert member.put(f"/v2.0/ports/{port['id']}", {"port": {"mac_address": None}}).status_code == 403
    dhcp = api.port(net["id"], device_owner="network:dhcp")
    r = api.put(f"/v2.0/ports/{dhcp['id']}", {"port": {"mac_address": None}})
    assert r.status_code == 409 and r.json()["NeutronError"]["type"] == "UnsupportedPortDeviceOwner"


def test_mac_of_a_bound_port_does_not_change(api):
    from tests.api.agent_support import bind

    net = api.network()
    port = api.port(net["id"])
    bind(api, port["id"], "compute1")
    r = api.put(f"/v2.0/ports/{port['id']}", {"port": {"mac_address": None}})
    assert r.status_code == 409 and r.json()["NeutronError"]["type"] == "PortBound"
    bind(api, port["id"], "compute1", vif_type="unbound")
    assert api.put(f"/v2.0/ports/{port['id']}", {"port": {"mac_address": None}}).status_code == 200
