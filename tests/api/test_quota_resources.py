"""Every quota a stock Neutron has is shown, settable and (where it applies) enforced, so
``openstack quota show`` prints no empty row: RBAC policies and subnet pools (never used here)
and ``router_route`` (the routes of one router)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.api

NEUTRON_QUOTAS = {
    "network": 100, "subnet": 100, "port": 500, "router": 10, "floatingip": 50,
    "security_group": 10, "security_group_rule": 100, "rbac_policy": 10, "subnetpool": -1, "router_route": 30,
}


def test_every_quota_is_shown(api):
    assert api.get("/v2.0/quotas/p1").json()["quota"] == NEUTRON_QUOTAS
    assert api.get("/v2.0/quotas/p1/default").json()["quota"] == NEUTRON_QUOTAS
    details = api.get("/v2.0/quotas/p1/details").json()["quota"]
    assert set(details) == set(NEUTRON_QUOTAS)
    assert all(d["used"] == 0 and d["reserved"] == 0 for d in details.values())
    r = api.put("/v2.0/quotas/p1", {"quota": {"rbac_policy": 5, "subnetpool": 2, "router_route": 1}})
    assert r.status_code == 200, r.text
    assert {k: r.json()["quota"][k] for k in ("rbac_policy", "subnetpool", "router_route")} == {
        "rbac_policy": 5, "subnetpool": 2, "router_route": 1,
    }


def test_router_route_quota_limits_one_routers_routes(api):
    net = api.network()
    sub = api.subnet(net["id"], "10.0.0.0/24")
    router = api.post("/v2.0/routers", {"router": {"name": "r"}}).json()["router"]
    url = f"/v2.0/routers/{router['id']}"
    assert api.put(f"{url}/add_router_interface", {"subnet_id": sub["id"]}).status_code == 200
    assert api.put("/v2.0/quotas/p-admin", {"quota": {"router_route": 1}}).status_code == 200
    one = [{"destination": "192.168.1.0/24", "nexthop": "10.0.0.10"}]
    two = [*one, {"destination": "192.168.2.0/24", "nexthop": "10.0.0.10"}]
    assert api.put(url, {"router": {"routes": one}}).status_code == 200
    r = api.put(url, {"router": {"routes": two}})
    assert r.status_code == 409 and r.json()["NeutronError"]["type"] == "OverQuota"
    assert api.get(url).json()["router"]["routes"] == one
    assert api.get("/v2.0/quotas/p-admin/details").json()["quota"]["router_route"]["used"] == 1


def test_a_limit_below_usage_is_refused_unless_forced(api):
    """A limit below current usage is refused with 400 and changes nothing, by default
    (quota-check-limit-default; ``check_limit`` is accepted and ignored); ``force: true`` sets
    it; -1 (unlimited) is never below usage."""
    aliases = {e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}
    assert {"quota-check-limit", "quota-check-limit-default"} <= aliases
    api.network()
    api.network()
    assert api.put("/v2.0/quotas/p-admin", {"quota": {"network": 3}}).status_code == 200
    for extra in ({}, {"check_limit": True}, {"check_limit": False}, {"force": False}, {"force": "true"}):
        r = api.put("/v2.0/quotas/p-admin", {"quota": {"network": 1, "subnet": 5, **extra}})
        assert r.status_code == 400, (extra, r.text)
        assert "Quota limit 1 for network must be greater than or equal to already used 2" in r.text
    assert api.get("/v2.0/quotas/p-admin").json()["quota"]["subnet"] == 100
    for limit in (2, -1):
        ok = api.put("/v2.0/quotas/p-admin", {"quota": {"network": limit, "check_limit": "maybe"}})
        assert ok.status_code == 200 and ok.json()["quota"]["network"] == limit
    forced = api.put("/v2.0/quotas/p-admin", {"quota": {"network": 1, "force": True}})
    assert forced.status_code == 200 and forced.json()["quota"]["network"] == 1
