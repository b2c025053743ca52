"""rbac-subnetpool, rbac-address-scope and rbac-address-group through the HTTP API: who sees
and uses an object a policy opens, ``shared`` per caller, and policies still in use."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.api

A = uuid.uuid4().hex
B = uuid.uuid4().hex
POOLS = "/v2.0/subnetpools"
SCOPES = "/v2.0/address-scopes"
AGS = "/v2.0/address-groups"


def _policy(api, object_type, object_id, target, status=201):  # type: ignore[no-untyped-def]
    body = {"object_type": object_type, "object_id": object_id, "action": "access_as_shared", "target_tenant": target}
    r = api.post("/v2.0/rbac-policies", {"rbac_policy": body})
    assert r.status_code == status, r.text
    return r.json().get("rbac_policy") or r.json()["NeutronError"]


def _pool(api, prefixes=("10.40.0.0/16",), **attrs):  # type: ignore[no-untyped-def]
    r = api.post(POOLS, {"subnetpool": {"name": "sp", "prefixes": list(prefixes), "default_prefixlen": 24, **attrs}})
    assert r.status_code == 201, r.text
    return r.json()["subnetpool"]


def _scope(api, **attrs):  # type: ignore[no-untyped-def]
    r = api.post(SCOPES, {"address_scope": {"name": "as", "ip_version": 4, **attrs}})
    assert r.status_code == 201, r.text
    return r.json()["address_scope"]


def test_subnetpool_shared_with_one_project(api):
    a, b = api.as_project(A), api.as_project(B)
    pool = _pool(api)
    assert a.get(f"{POOLS}/{pool['id']}").status_code == 404
    pol = _policy(api, "subnetpool", pool["id"], A)
    shown = a.get(f"{POOLS}/{pool['id']}").json()["subnetpool"]
    assert shown["shared"] is True
    assert api.get(f"{POOLS}/{pool['id']}").json()["subnetpool"]["shared"] is False
    assert [p["id"] for p in a.get(POOLS).json()["subnetpools"]] == [pool["id"]]
    assert [p["id"] for p in a.get(f"{POOLS}?shared=true").json()["subnetpools"]] == [pool["id"]]
    assert a.get(f"{POOLS}?shared=false").json()["subnetpools"] == []
    assert pool["id"] in [p["id"] for p in api.get(f"{POOLS}?shared=false").json()["subnetpools"]]
    assert b.get(f"{POOLS}/{pool['id']}").status_code == 404
    # only the owner changes it
    assert a.put(f"{POOLS}/{pool['id']}", {"subnetpool": {"name": "x"}}).status_code == 403
    # the project allocates from it; the policy is then in use, also when retargeted
    net = a.network()
    r = a.post("/v2.0/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4, "subnetpool_id": pool["id"]}})
    assert r.status_code == 201, r.text
    sub = r.json()["subnet"]
    r = api.delete(f"/v2.0/rbac-policies/{pol['id']}")
    assert r.status_code == 409 and r.json()["NeutronError"]["type"] == "RbacPolicyInUse"
    assert api.put(f"/v2.0/rbac-policies/{pol['id']}", {"rbac_policy": {"target_tenant": B}}).status_code == 409
    # a '*' policy covers A: then A's own policy may go, but not the '*' one
    star = _policy(api, "subnetpool", pool["id"], "*")
    assert api.get(f"{POOLS}/{pool['id']}").json()["subnetpool"]["shared"] is True
    assert api.delete(f"/v2.0/rbac-policies/{pol['id']}").status_code == 204
    assert api.delete(f"/v2.0/rbac-policies/{star['id']}").status_code == 409
    assert a.delete(f"/v2.0/subnets/{sub['id']}").status_code == 204
    assert api.delete(f"/v2.0/rbac-policies/{star['id']}").status_code == 204
    assert api.get(f"{POOLS}/{pool['id']}").json()["subnetpool"]["shared"] is False
    assert a.get(f"{POOLS}/{pool['id']}").status_code == 404


def test_subnetpool_shared_on_create_is_a_wildcard_policy(api):
    a = api.as_project(A)
    pool = _pool(api, shared=True)
    [pol] = api.get(f"/v2.0/rbac-policies?object_id={pool['id']}").json()["rbac_policies"]
    assert (pol["object_type"], pol["target_tenant"], pol["action"]) == ("subnetpool", "*", "access_as_shared")
    assert a.get(f"{POOLS}/{pool['id']}").json()["subnetpool"]["shared"] is True
    # a project may not share another's pool (400), the owner may (its own, not '*')
    own = _pool(a, prefixes=("10.41.0.0/16",))
    assert _policy(a, "subnetpool", pool["id"], B, status=400)["type"] == "InvalidInput"
    _policy(a, "subnetpool", own["id"], B)
    assert api.delete(f"{POOLS}/{pool['id']}").status_code == 204
    assert api.get(f"/v2.0/rbac-policies?object_id={pool['id']}").json()["rbac_policies"] == []


def test_pool_in_a_scope_is_shared_only_with_projects_that_reach_the_scope(api):
    a = api.as_project(A)
    scope = _scope(api)
    _policy(api, "address_scope", scope["id"], A)
    pool = _pool(a, address_scope_id=scope["id"])
    err = _policy(a, "subnetpool", pool["id"], B, status=400)
    assert err["type"] == "RbacPolicyInitError"
    _policy(api, "address_scope", scope["id"], B)
    _policy(a, "subnetpool", pool["id"], B)


def test_address_scope_shared_with_one_project(api):
    a, b = api.as_project(A), api.as_project(B)
    scope = _scope(api)
    assert a.get(f"{SCOPES}/{scope['id']}").status_code == 404
    err = a.post(POOLS, {"subnetpool": {"name": "x", "prefixes": ["10.50.0.0/16"], "address_scope_id": scope["id"]}})
    assert err.status_code == 404
    pol = _policy(api, "address_scope", scope["id"], A)
    assert a.get(f"{SCOPES}/{scope['id']}").json()["address_scope"]["shared"] is True
    assert api.get(f"{SCOPES}/{scope['id']}").json()["address_scope"]["shared"] is False
    assert [s["id"] for s in a.get(SCOPES).json()["address_scopes"]] == [scope["id"]]
    assert [s["id"] for s in a.get(f"{SCOPES}?shared=true").json()["address_scopes"]] == [scope["id"]]
    assert scope["id"] not in [s["id"] for s in api.get(f"{SCOPES}?shared=true").json()["address_scopes"]]
    assert b.get(f"{SCOPES}/{scope['id']}").status_code == 404
    assert a.put(f"{SCOPES}/{scope['id']}", {"address_scope": {"name": "x"}}).status_code == 403
    # A puts its pool in the scope: the policy is in use until the pool leaves
    pool = _pool(a, prefixes=("10.50.0.0/16",), address_scope_id=scope["id"])
    r = api.delete(f"/v2.0/rbac-policies/{pol['id']}")
    assert r.status_code == 409 and r.json()["NeutronError"]["type"] == "RbacPolicyInUse"
    assert a.delete(f"{POOLS}/{pool['id']}").status_code == 204
    assert api.delete(f"/v2.0/rbac-policies/{pol['id']}").status_code == 204
    assert a.get(f"{SCOPES}/{scope['id']}").status_code == 404


def test_address_scope_shared_flag_is_the_wildcard_policy(api):
    a = api.as_project(A)
    scope = _scope(api)
    r = api.put(f"{SCOPES}/{scope['id']}", {"address_scope": {"shared": True}})
    assert r.json()["address_scope"]["shared"] is True
    [pol] = api.get(f"/v2.0/rbac-policies?object_id={scope['id']}").json()["rbac_policies"]
    assert (pol["object_type"], pol["target_tenant"]) == ("address_scope", "*")
    pool = _pool(a, prefixes=("10.60.0.0/16",), address_scope_id=scope["id"])
    assert api.delete(f"/v2.0/rbac-policies/{pol['id']}").status_code == 409
    assert a.delete(f"{POOLS}/{pool['id']}").status_code == 204
    assert api.delete(f"{SCOPES}/{scope['id']}").status_code == 204
    assert api.get(f"/v2.0/rbac-policies?object_id={scope['id']}").json()["rbac_policies"] == []


def test_address_group_shared_with_one_project(api):
    a, b = api.as_project(A), api.as_project(B)
    ag = api.post(AGS, {"address_group": {"name": "ag", "addresses": ["10.9.0.0/24"]}}).json()["address_group"]
    assert a.get(f"{AGS}/{ag['id']}").status_code == 404
    pol = _policy(api, "address_group", ag["id"], A)
    assert a.get(f"{AGS}/{ag['id']}").json()["address_group"]["addresses"] == ["10.9.0.0/24"]
    assert [g["id"] for g in a.get(AGS).json()["address_groups"]] == [ag["id"]]
    assert b.get(f"{AGS}/{ag['id']}").status_code == 404
    # shared is not writable: changing it is 404, as in Neutron
    assert a.put(f"{AGS}/{ag['id']}", {"address_group": {"name": "x"}}).status_code == 404
    r = a.put(f"{AGS}/{ag['id']}/add_addresses", {"addresses": ["10.8.0.0/24"]})
    assert r.status_code == 404
    assert a.delete(f"{AGS}/{ag['id']}").status_code == 404
    # A names it in a rule: the policy is in use
    sg = a.post("/v2.0/security-groups", {"security_group": {"name": "web"}}).json()["security_group"]
    body = {"security_group_id": sg["id"], "direction": "ingress", "protocol": "tcp", "remote_address_group_id": ag["id"]}
    r = a.post("/v2.0/security-group-rules", {"security_group_rule": body})
    assert r.status_code == 201, r.text
    rule = r.json()["security_group_rule"]
    r = b.post("/v2.0/security-group-rules", {"security_group_rule": dict(body, security_group_id=sg["id"])})
    assert r.status_code == 404
    r = api.delete(f"/v2.0/rbac-policies/{pol['id']}")
    assert r.status_code == 409 and r.json()["NeutronError"]["type"] == "RbacPolicyInUse"
    assert a.delete(f"/v2.0/security-group-rules/{rule['id']}").status_code == 204
    assert api.delete(f"/v2.0/rbac-policies/{pol['id']}").status_code == 204
    assert a.get(f"{AGS}/{ag['id']}").status_code == 404
    pol = _policy(api, "address_group", ag["id"], "*")
    assert b.get(f"{AGS}/{ag['id']}").status_code == 200
    assert api.delete(f"{AGS}/{ag['id']}").status_code == 204
    assert api.get(f"/v2.0/rbac-policies/{pol['id']}").status_code == 404


def test_three_extensions_are_announced(api):
    aliases = {e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}
    assert {"rbac-subnetpool", "rbac-address-scope", "rbac-address-group"} <= aliases
