"""Address scopes through the HTTP API: CRUD, policy, pools joining one, network attributes."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.api

SCOPES = "/v2.0/address-scopes"
POOLS = "/v2.0/subnetpools"


def _scope(api, expect=201, **attrs):  # type: ignore[no-untyped-def]
    r = api.post(SCOPES, {"address_scope": {"name": "as", "ip_version": 4, **attrs}})
    assert r.status_code == expect, r.text
    return r.json()["address_scope"] if expect == 201 else r.json()["NeutronError"]


def _pool(api, prefixes, expect=201, **attrs):  # type: ignore[no-untyped-def]
    r = api.post(POOLS, {"subnetpool": {"name": "sp", "prefixes": prefixes, **attrs}})
    assert r.status_code == expect, r.text
    return r.json()["subnetpool"] if expect == 201 else r.json()["NeutronError"]


def test_crud_and_shape(api):
    s = _scope(api)
    assert set(s) == {"id", "name", "shared", "ip_version", "project_id", "tenant_id"}
    assert s["shared"] is False and s["ip_version"] == 4 and s["project_id"] == "p-admin"
    url = f"{SCOPES}/{s['id']}"
    assert api.put(url, {"address_scope": {"name": "new_name", "shared": True}}).json()["address_scope"][
        "name"] == "new_name"
    r = api.put(url, {"address_scope": {"name": "x", "shared": False}})
    assert r.status_code == 400 and r.json()["NeutronError"]["type"] == "AddressScopeUpdateError"
    assert api.put(url, {"address_scope": {"ip_version": 6}}).status_code == 400
    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404
    assert api.post(SCOPES, {"address_scope": {"name": "x"}}).status_code == 400  # ip_version required


def test_policy(api):
    member = api.as_project("p1")
    assert _scope(member, expect=403, shared=True)["type"] == "PolicyNotAuthorized"
    mine = _scope(member)
    for shared in (True, False):
        r = member.put(f"{SCOPES}/{mine['id']}", {"address_scope": {"name": "n", "shared": shared}})
        assert r.status_code == 403
    private = _scope(api)
    shared = _scope(api, shared=True)
    assert member.get(f"{SCOPES}/{private['id']}").status_code == 404
    assert member.get(f"{SCOPES}/{shared['id']}").json()["address_scope"]["shared"] is True
    assert {s["id"] for s in member.get(SCOPES).json()["address_scopes"]} == {mine["id"], shared["id"]}
    assert member.delete(f"{SCOPES}/{shared['id']}").status_code == 403


def test_pools_in_a_scope(api):
    scope = _scope(api)
    sp = _pool(api, ["20.0.0.0/18", "30.0.0.0/18"], address_scope_id=scope["id"])
    assert sp["address_scope_id"] == scope["id"]
    err = _pool(api, ["40.0.0.0/18", "30.0.0.0/12"], expect=409, address_scope_id=scope["id"])
    assert err["type"] == "AddressScopePrefixConflict"
    other = _pool(api, ["20.0.10.0/24"])
    r = api.put(f"{POOLS}/{other['id']}", {"subnetpool": {"address_scope_id": scope["id"]}})
    assert r.status_code == 409
    v6 = _scope(api, ip_version=6)
    r = api.put(f"{POOLS}/{other['id']}", {"subnetpool": {"address_scope_id": v6["id"]}})
    assert r.status_code == 400
    assert r.json()["NeutronError"]["type"] == "IllegalSubnetPoolIpVersionAssociationToAddressScope"
    r = api.delete(f"{SCOPES}/{scope['id']}")
    assert r.status_code == 409 and r.json()["NeutronError"]["type"] == "AddressScopeInUse"
    r = api.put(f"{POOLS}/{sp['id']}", {"subnetpool": {"address_scope_id": None}})
    assert r.json()["subnetpool"]["address_scope_id"] is None
    assert api.delete(f"{SCOPES}/{scope['id']}").status_code == 204


def test_association_rules_for_members(api):
    member = api.as_project("p1")
    admin_private = _scope(api)
    admin_shared = _scope(api, shared=True)
    err = _pool(member, ["10.0.0.0/16"], expect=404, address_scope_id=admin_private["id"])
    assert err["type"] == "AddressScopeNotFound"
    # rbac-address-scope: a shared scope takes any project's pools (the pre-RBAC rule was 400)
    joined = _pool(member, ["10.0.0.0/16"], address_scope_id=admin_shared["id"])
    assert joined["address_scope_id"] == admin_shared["id"]
    # an admin puts the member's pool in the shared scope: the member can no longer change it
    sp = _pool(member, ["20.0.0.0/18"])
    assert api.put(f"{POOLS}/{sp['id']}", {"subnetpool": {"address_scope_id": admin_shared["id"]}}).status_code == 200
    r = member.put(f"{POOLS}/{sp['id']}", {"subnetpool": {"prefixes": ["20.0.0.0/18", "40.0.0.0/18"]}})
    assert r.status_code == 400 and r.json()["NeutronError"]["type"] == "IllegalSubnetPoolUpdate"
    r = api.put(f"{POOLS}/{sp['id']}", {"subnetpool": {"prefixes": ["20.0.0.0/18", "40.0.0.0/18"]}})
    assert r.json()["subnetpool"]["prefixes"] == ["20.0.0.0/18", "40.0.0.0/18"]


def test_network_takes_the_scope_of_its_pools(api):
    v4, v6 = _scope(api), _scope(api, ip_version=6)
    pool_a = _pool(api, ["10.1.0.0/16"], address_scope_id=v4["id"], default_prefixlen=24)
    pool_b = _pool(api, ["10.2.0.0/16"], address_scope_id=v4["id"], default_prefixlen=24)
    pool_6 = _pool(api, ["2001:db8::/48"], address_scope_id=v6["id"])
    outside = _pool(api, ["10.3.0.0/16"], default_prefixlen=24)
    net = api.network()
    assert (net["ipv4_address_scope"], net["ipv6_address_scope"]) == (None, None)

    def subnet(expect=201, **attrs):  # type: ignore[no-untyped-def]
        body = {"network_id": net["id"], "ip_version": 4, **attrs}
        r = api.post("/v2.0/subnets", {"subnet": body})
        assert r.status_code == expect, r.text
        return r.json()

    subnet(subnetpool_id=pool_a["id"])
    subnet(subnetpool_id=pool_b["id"])  # another pool of the same scope: allowed
    assert subnet(400, subnetpool_id=outside["id"])["NeutronError"]["type"] == "NetworkAddressScopeAffinityError"
    assert subnet(400, cidr="10.9.0.0/24")["NeutronError"]["type"] == "NetworkSubnetPoolAffinityError"
    subnet(ip_version=6, subnetpool_id=pool_6["id"])
    shown = api.get(f"/v2.0/networks/{net['id']}").json()["network"]
    assert (shown["ipv4_address_scope"], shown["ipv6_address_scope"]) == (v4["id"], v6["id"])
    listed = api.get(f"/v2.0/networks?id={net['id']}").json()["networks"][0]
    assert listed["ipv4_address_scope"] == v4["id"]
    # renaming a pool is fine; moving pool_a to another scope would split the network
    assert api.put(f"{POOLS}/{pool_a['id']}", {"subnetpool": {"name": "renamed"}}).status_code == 200
    other = _scope(api)
    r = api.put(f"{POOLS}/{pool_a['id']}", {"subnetpool": {"address_scope_id": other["id"]}})
    assert r.status_code == 400 and r.json()["NeutronError"]["type"] == "NetworkAddressScopeAffinityError"
