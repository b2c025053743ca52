"""Bulk creates whose items are wrapped in the singular key, as Neutron's
``prepare_request_body`` accepts (tempest's bulk helpers send them so), for every resource
with bulk create; bare and wrapped items may be mixed and the request stays atomic."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.api


def _bulk(api, path, collection, items):  # type: ignore[no-untyped-def]
    r = api.post(path, {collection: items})
    assert r.status_code == 201, r.text
    return r.json()[collection]


def test_wrapped_items_for_every_bulk_resource(api):
    nets = _bulk(api, "/v2.0/networks", "networks", [{"network": {"name": "a"}}, {"name": "b"}])
    assert [n["name"] for n in nets] == ["a", "b"]
    subnets = _bulk(api, "/v2.0/subnets", "subnets", [
        {"subnet": {"network_id": nets[0]["id"], "cidr": "10.1.0.0/24", "ip_version": 4}},
        {"subnet": {"network_id": nets[1]["id"], "cidr": "10.2.0.0/24", "ip_version": 4}},
    ])
    assert [s["cidr"] for s in subnets] == ["10.1.0.0/24", "10.2.0.0/24"]
    ports = _bulk(api, "/v2.0/ports", "ports", [{"port": {"network_id": nets[0]["id"], "name": "p"}}] * 2)
    assert [p["name"] for p in ports] == ["p", "p"] and ports[0]["id"] != ports[1]["id"]
    groups = _bulk(api, "/v2.0/security-groups", "security_groups",
                   [{"security_group": {"name": "x"}}, {"security_group": {"name": "y"}}])
    assert [g["name"] for g in groups] == ["x", "y"]
    rules = _bulk(api, "/v2.0/security-group-rules", "security_group_rules", [
        {"security_group_rule": {"security_group_id": groups[0]["id"], "direction": "ingress",
                                 "protocol": "tcp", "port_range_min": port, "port_range_max": port}}
        for port in (22, 80)
    ])
    assert [r["port_range_min"] for r in rules] == [22, 80]


def test_wrapped_items_are_validated_and_atomic(api):
    r = api.post("/v2.0/networks", {"networks": [{"network": {"name": "c"}}, {"network": {"shared": "junk"}}]})
    assert r.status_code == 400, r.text
    r = api.post("/v2.0/networks", {"networks": [{"network": {"name": "c"}}, {"network": {"bogus": 1}}]})
    assert r.status_code == 400 and "bogus" in r.json()["NeutronError"]["message"]
    assert api.get("/v2.0/networks").json()["networks"] == []
