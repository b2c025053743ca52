"""subnet-service-types through the API: stored on subnets, honoured by IP allocation."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.api


def test_ports_get_addresses_from_their_service_subnets(api):
    net = api.network()
    a = api.subnet(net["id"], "192.168.1.0/24", service_types=["test:type_1"], enable_dhcp=False)
    b = api.subnet(net["id"], "192.168.2.0/24", service_types=["test:type_2"], enable_dhcp=False)
    assert a["service_types"] == ["test:type_1"]
    p1 = api.port(net["id"], device_owner="test:type_1")
    p2 = api.port(net["id"], device_owner="test:type_2")
    assert [f["subnet_id"] for f in p1["fixed_ips"]] == [a["id"]]
    assert [f["subnet_id"] for f in p2["fixed_ips"]] == [b["id"]]
    r = api.post("/v2.0/ports", {"port": {"network_id": net["id"]}})
    assert r.status_code == 409
    assert r.json()["NeutronError"]["type"] == "IpAddressGenerationFailureNoMatchingSubnet"
    plain = api.subnet(net["id"], "192.168.3.0/24", enable_dhcp=False)
    assert [f["subnet_id"] for f in api.port(net["id"])["fixed_ips"]] == [plain["id"]]


def test_update_bumps_revision_and_validates(api):
    net = api.network()
    sub = api.subnet(net["id"])
    r = api.put(f"/v2.0/subnets/{sub['id']}", {"subnet": {"service_types": ["compute:"]}})
    assert r.status_code == 200 and r.json()["subnet"]["service_types"] == ["compute:"]
    assert r.json()["subnet"]["revision_number"] > sub["revision_number"]
    r2 = api.put(f"/v2.0/subnets/{sub['id']}", {"subnet": {"service_types": []}})
    assert r2.json()["subnet"]["service_types"] == []
    assert r2.json()["subnet"]["revision_number"] > r.json()["subnet"]["revision_number"]
    r = api.put(f"/v2.0/subnets/{sub['id']}", {"subnet": {"service_types": ["bogus:x"]}})
    assert r.status_code == 400 and r.json()["NeutronError"]["type"] == "InvalidSubnetServiceType"
