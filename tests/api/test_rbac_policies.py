"""rbac-policies through the HTTP API: sharing networks and security groups with projects."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.api

A = uuid.uuid4().hex
B = uuid.uuid4().hex


def _policy(api, object_id, target, action="access_as_shared", object_type="network", status=201):  # type: ignore[no-untyped-def]
    body = {"object_type": object_type, "object_id": object_id, "action": action, "target_tenant": target}
    r = api.post("/v2.0/rbac-policies", {"rbac_policy": body})
    assert r.status_code == status, r.text
    return r.json().get("rbac_policy") or r.json()


def test_share_network_with_one_project(api):
    a, b = api.as_project(A), api.as_project(B)
    net = api.network()
    sub = api.subnet(net["id"])
    assert a.get(f"/v2.0/networks/{net['id']}").status_code == 404
    pol = _policy(api, net["id"], A)
    assert set(pol) == {"id", "project_id", "tenant_id", "object_type", "object_id", "action", "target_tenant"}
    # shared as the caller sees it: a policy for its own project counts, as in Neutron
    assert a.get(f"/v2.0/networks/{net['id']}").json()["network"]["shared"] is True
    assert api.get(f"/v2.0/networks/{net['id']}").json()["network"]["shared"] is False
    assert [n["id"] for n in a.get("/v2.0/networks?shared=true").json()["networks"]] == [net["id"]]
    assert api.get("/v2.0/networks?shared=true").json()["networks"] == []
    assert a.get(f"/v2.0/subnets/{sub['id']}").status_code == 200
    assert [n["id"] for n in a.get("/v2.0/networks").json()["networks"]] == [net["id"]]
    assert b.get(f"/v2.0/networks/{net['id']}").status_code == 404
    assert b.get(f"/v2.0/subnets/{sub['id']}").status_code == 404
    # the target may create ports; the policy is then in use
    port = a.port(net["id"])
    r = api.delete(f"/v2.0/rbac-policies/{pol['id']}")
    assert r.status_code == 409 and r.json()["NeutronError"]["type"] == "RbacPolicyInUse"
    # the target does not see the policy (it belongs to the admin's project)
    assert a.get("/v2.0/rbac-policies").json()["rbac_policies"] == []
    assert a.delete(f"/v2.0/ports/{port['id']}").status_code == 204
    assert api.delete(f"/v2.0/rbac-policies/{pol['id']}").status_code == 204
    assert a.get(f"/v2.0/networks/{net['id']}").status_code == 404


def test_errors_duplicate_wildcard_owner_and_validation(api):
    a, b = api.as_project(A), api.as_project(B)
    net = api.network()
    _policy(api, net["id"], A)
    dup = _policy(api, net["id"], A, status=409)
    assert dup["NeutronError"]["type"] == "DuplicateRbacPolicy"
    # a project may not share what it does not own (400), nor with everyone (403)
    assert _policy(a, net["id"], B, status=400)["NeutronError"]["type"] == "InvalidInput"
    own = a.network()
    _policy(a, own["id"], "*", status=403)
    pol = _policy(a, own["id"], B)
    assert a.put(f"/v2.0/rbac-policies/{pol['id']}", {"rbac_policy": {"target_tenant": "*"}}).status_code == 403
    assert b.get(f"/v2.0/rbac-policies/{pol['id']}").status_code == 404
    _policy(api, net["id"], None, status=400)
    _policy(api, net["id"], "1234" * 100, status=400)
    _policy(api, net["id"], A, action="bogus", status=400)
    _policy(api, net["id"], A, object_type="bogus", status=400)
    _policy(api, str(uuid.uuid4()), A, status=404)


def test_wildcard_policy_is_shared_and_update_shared_makes_it(api):
    a = api.as_project(A)
    net = api.network()
    rev = net["revision_number"]
    pol = _policy(api, net["id"], "*")
    shown = api.get(f"/v2.0/networks/{net['id']}").json()["network"]
    assert shown["shared"] is True and shown["revision_number"] > rev
    assert net["id"] in [n["id"] for n in api.get("/v2.0/networks?shared=true").json()["networks"]]
    port = a.port(net["id"])
    assert api.delete(f"/v2.0/rbac-policies/{pol['id']}").status_code == 409
    # a policy of its own keeps A in: then the wildcard can go
    _policy(api, net["id"], A)
    assert api.delete(f"/v2.0/rbac-policies/{pol['id']}").status_code == 204
    assert api.get(f"/v2.0/networks/{net['id']}").json()["network"]["shared"] is False
    assert a.delete(f"/v2.0/ports/{port['id']}").status_code == 204
    # shared=true on update creates the '*' policy, shared=false removes it
    api.put(f"/v2.0/networks/{net['id']}", {"network": {"shared": True}})
    found = api.get(f"/v2.0/rbac-policies?object_id={net['id']}&target_tenant=*").json()["rbac_policies"]
    assert len(found) == 1 and found[0]["action"] == "access_as_shared"
    api.put(f"/v2.0/networks/{net['id']}", {"network": {"shared": False}})
    assert api.get(f"/v2.0/rbac-policies?object_id={net['id']}&target_tenant=*").json()["rbac_policies"] == []


def test_access_as_external(api):
    b = api.as_project(B)
    net = api.network()
    api.subnet(net["id"], enable_dhcp=False)
    pol = _policy(api, net["id"], B, action="access_as_external")
    assert api.get(f"/v2.0/networks/{net['id']}").json()["network"]["router:external"] is True
    assert b.get(f"/v2.0/networks/{net['id']}").status_code == 200
    # external access is not shared access: no ports for B
    r = b.post("/v2.0/ports", {"port": {"network_id": net["id"]}})
    assert r.status_code == 404
    assert api.delete(f"/v2.0/rbac-policies/{pol['id']}").status_code == 204
    assert api.get(f"/v2.0/networks/{net['id']}").json()["network"]["router:external"] is False
    # router:external on create or update makes the '*' policy, false removes it
    ext = api.network(**{"router:external": True})
    q = f"/v2.0/rbac-policies?object_id={ext['id']}&action=access_as_external&target_tenant=*"
    assert len(api.get(q).json()["rbac_policies"]) == 1
    api.put(f"/v2.0/networks/{ext['id']}", {"network": {"router:external": False}})
    assert api.get(q).json()["rbac_policies"] == []


def test_security_group_sharing(api):
    a, b = api.as_project(A), api.as_project(B)
    sg = api.post("/v2.0/security-groups", {"security_group": {"name": "web"}}).json()["security_group"]
    assert a.get(f"/v2.0/security-groups/{sg['id']}").status_code == 404
    pol = _policy(api, sg["id"], A, object_type="security_group")
    shown = a.get(f"/v2.0/security-groups/{sg['id']}").json()["security_group"]
    assert shown["shared"] is True
    assert sg["id"] in [g["id"] for g in a.get("/v2.0/security-groups?shared=true").json()["security_groups"]]
    assert b.get(f"/v2.0/security-groups/{sg['id']}").status_code == 404
    assert a.put(f"/v2.0/security-groups/{sg['id']}", {"security_group": {"name": "x"}}).status_code == 403
    _policy(api, sg["id"], A, action="access_as_external", object_type="security_group", status=400)
    net = a.network()
    port = a.port(net["id"], security_groups=[sg["id"]])
    assert api.delete(f"/v2.0/rbac-policies/{pol['id']}").status_code == 409
    upd = api.put(f"/v2.0/rbac-policies/{pol['id']}", {"rbac_policy": {"target_tenant": B}})
    assert upd.status_code == 409
    assert a.delete(f"/v2.0/ports/{port['id']}").status_code == 204
    upd = api.put(f"/v2.0/rbac-policies/{pol['id']}", {"rbac_policy": {"target_tenant": B}})
    assert upd.status_code == 200 and upd.json()["rbac_policy"]["target_tenant"] == B
    assert api.delete(f"/v2.0/security-groups/{sg['id']}").status_code == 204
    assert api.get(f"/v2.0/rbac-policies/{pol['id']}").status_code == 404


def test_rbac_policy_quota(api):
    a = api.as_project(A)
    net = a.network()
    api.put(f"/v2.0/quotas/{A}", {"quota": {"rbac_policy": 2}})
    _policy(a, net["id"], uuid.uuid4().hex)
    _policy(a, net["id"], uuid.uuid4().hex)
    r = _policy(a, net["id"], uuid.uuid4().hex, status=409)
    assert r["NeutronError"]["type"] == "OverQuota"
    details = api.get(f"/v2.0/quotas/{A}/details").json()["quota"]["rbac_policy"]
    assert details["used"] == 2 and details["limit"] == 2


def test_default_external_network_keeps_its_wildcard(api):
    ext = api.network(**{"router:external": True})
    assert ext["is_default"] is False and "is_default" not in api.network()
    r = api.put(f"/v2.0/networks/{ext['id']}", {"network": {"is_default": True}})
    assert r.status_code == 200 and r.json()["network"]["is_default"] is True
    other = api.network(**{"router:external": True})
    r = api.put(f"/v2.0/networks/{other['id']}", {"network": {"is_default": True}})
    assert r.status_code == 409 and r.json()["NeutronError"]["type"] == "DefaultExternalNetworkExists"
    q = f"/v2.0/rbac-policies?object_id={ext['id']}&action=access_as_external&target_tenant=*"
    wildcard = api.get(q).json()["rbac_policies"][0]
    r = api.delete(f"/v2.0/rbac-policies/{wildcard['id']}")
    assert r.status_code == 409 and "Default external networks" in r.json()["NeutronError"]["message"]


def test_dhcp_projection_serves_ports_of_projects_a_policy_lets_in(api):
    """Another project's port on a network shared with it by RBAC gets DHCP like any other:
    the DHCP agent's projection lists every port of the networks it serves, whoever owns them."""
    from neutrino.domain.projection import project_host

    from tests.api.agent_support import report, run

    report(api, "net1", "dhcp")
    net = api.network()
    api.subnet(net["id"])
    _policy(api, net["id"], A)
    theirs = api.as_project(A).port(net["id"])
    state = run(api, lambda s: project_host(s, "net1"))
    [served] = state.dhcp_networks
    assert served.network_id == net["id"]
    entries = {p.port_id: p for p in served.ports}
    assert theirs["id"] in entries
    assert [f.ip_address for f in entries[theirs["id"]].fixed_ips] == [theirs["fixed_ips"][0]["ip_address"]]
