"""QoS through the HTTP API (the qos service plugin): policies, rules, defaults, bindings."""

from __future__ import annotations

import pytest

from tests.api.ml2_support import ml2_server

pytestmark = pytest.mark.api
PLUGINS = ["router", "trunk", "qos"]


def _fault(r, status, type_):  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.json()["NeutronError"]["type"] == type_, r.text


def _policy(api, **attrs):  # type: ignore[no-untyped-def]
    r = api.post("/v2.0/qos/policies", {"policy": {"name": "p", **attrs}})
    assert r.status_code == 201, r.text
    return r.json()["policy"]


def test_policies_and_rules(tmp_path, database_url):
    with ml2_server(tmp_path, database_url) as (api, _):  # on by default
        aliases = {e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}
        assert {"qos", "qos-default", "qos-bw-limit-direction", "qos-rule-type-details"} <= aliases
        pol = _policy(api, description="d")
        assert pol["shared"] is False and pol["is_default"] is False and pol["rules"] == []
        base = f"/v2.0/qos/policies/{pol['id']}"
        r = api.post(base + "/bandwidth_limit_rules", {"bandwidth_limit_rule": {"max_kbps": 200, "max_burst_kbps": 1337}})
        assert r.status_code == 201, r.text
        rule = r.json()["bandwidth_limit_rule"]
        assert rule == {"id": rule["id"], "max_kbps": 200, "max_burst_kbps": 1337, "direction": "egress"}
        _fault(api.post(base + "/bandwidth_limit_rules", {"bandwidth_limit_rule": {"max_kbps": 1}}), 409,
               "NeutronDbObjectDuplicateEntry")
        assert api.post(base + "/bandwidth_limit_rules",
                        {"bandwidth_limit_rule": {"max_kbps": 1, "direction": "ingress"}}).status_code == 201
        _fault(api.post(base + "/dscp_marking_rules", {"dscp_marking_rule": {"dscp_mark": 7}}), 400, "HTTPBadRequest")
        assert api.post(base + "/dscp_marking_rules", {"dscp_marking_rule": {"dscp_mark": 46}}).status_code == 201
        _fault(api.post(base + "/minimum_bandwidth_rules", {"minimum_bandwidth_rule": {}}), 400, "HTTPBadRequest")
        assert api.post(base + "/minimum_bandwidth_rules", {"minimum_bandwidth_rule": {"min_kbps": 10}}).status_code == 201
        up = api.put(f"{base}/bandwidth_limit_rules/{rule['id']}", {"bandwidth_limit_rule": {"max_kbps": 300}})
        assert up.json()["bandwidth_limit_rule"]["max_kbps"] == 300
        shown = api.get(base).json()["policy"]
        assert sorted(r["type"] for r in shown["rules"]) == ["bandwidth_limit", "bandwidth_limit", "dscp_marking",
                                                              "minimum_bandwidth"]
        assert len(api.get(base + "/bandwidth_limit_rules").json()["bandwidth_limit_rules"]) == 2
        assert api.delete(f"{base}/bandwidth_limit_rules/{rule['id']}").status_code == 204
        _fault(api.get(f"{base}/bandwidth_limit_rules/{rule['id']}"), 404, "QosRuleNotFound")
        _fault(api.post("/v2.0/qos/policies/nope/dscp_marking_rules", {"dscp_marking_rule": {"dscp_mark": 8}}), 404,
               "QosPolicyNotFound")
        assert [t["type"] for t in api.get("/v2.0/qos/rule-types").json()["rule_types"]] == [
            "bandwidth_limit", "dscp_marking", "minimum_bandwidth", "minimum_packet_rate"]
        details = api.get("/v2.0/qos/rule-types/bandwidth_limit").json()["rule_type"]
        assert sorted(details) == ["drivers", "type"] and details["drivers"][0]["name"] == "openvswitch"
        user = api.as_project("p-user")
        _fault(user.get("/v2.0/qos/rule-types/bandwidth_limit"), 403, "PolicyNotAuthorized")
        _fault(user.get(base), 404, "QosPolicyNotFound")
        _fault(user.post("/v2.0/qos/policies", {"policy": {"name": "x"}}), 403, "PolicyNotAuthorized")
        # creating a rule is admin-only before the policy is even looked up (403, not 404)
        _fault(user.post(base + "/dscp_marking_rules", {"dscp_marking_rule": {"dscp_mark": 8}}), 403, "PolicyNotAuthorized")
        assert api.put(f"/v2.0/policies/{pol['id']}/tags/gold").status_code == 201
        assert api.get(f"/v2.0/qos/policies?tags=gold").json()["policies"][0]["tags"] == ["gold"]
        assert api.delete(base).status_code == 204


def test_bindings_defaults_and_in_use(tmp_path, database_url):
    with ml2_server(tmp_path, database_url, service_plugins=PLUGINS) as (api, _):
        private = _policy(api)
        shared = _policy(api, shared=True)
        user = api.as_project("p-user")
        _fault(user.post("/v2.0/networks", {"network": {"name": "n", "qos_policy_id": private["id"]}}), 404,
               "QosPolicyNotFound")
        net = user.network(qos_policy_id=shared["id"])
        assert net["qos_policy_id"] == shared["id"]
        port = user.port(net["id"])
        assert port["qos_policy_id"] is None and port["qos_network_policy_id"] == shared["id"]
        r = user.put(f"/v2.0/ports/{port['id']}", {"port": {"qos_policy_id": shared["id"]}})
        assert r.json()["port"]["qos_policy_id"] == shared["id"]
        _fault(api.delete(f"/v2.0/qos/policies/{shared['id']}"), 409, "QosPolicyInUse")
        assert [n["id"] for n in api.get(f"/v2.0/networks?qos_policy_id={shared['id']}").json()["networks"]] == [net["id"]]
        # a network of the user's holding the admin's private policy: the user may not remove it
        other = api.network(project_id="p-user", qos_policy_id=private["id"])
        _fault(user.put(f"/v2.0/networks/{other['id']}", {"network": {"qos_policy_id": None}}), 403,
               "PolicyRemoveAuthorizationError")
        assert user.port(other["id"])["qos_network_policy_id"] == private["id"]
        # the project's default policy goes to networks created without one
        default = _policy(api, project_id="p-new", is_default=True)
        assert default["is_default"] is True
        r = api.post("/v2.0/qos/policies", {"policy": {"name": "d2", "project_id": "p-new", "is_default": True}})
        _fault(r, 409, "QoSPolicyDefaultAlreadyExists")
        assert api.network(project_id="p-new")["qos_policy_id"] == default["id"]
        explicit = _policy(api, project_id="p-new")
        assert api.network(project_id="p-new", qos_policy_id=explicit["id"])["qos_policy_id"] == explicit["id"]


def test_without_the_plugin_there_is_no_qos(tmp_path, database_url):
    with ml2_server(tmp_path, database_url, service_plugins=["router", "trunk"]) as (api, _):
        assert "qos" not in {e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}
        assert api.get("/v2.0/qos/policies").status_code == 404
        r = api.post("/v2.0/networks", {"network": {"name": "n", "qos_policy_id": None}})
        _fault(r, 400, "HTTPBadRequest")
        assert "qos_policy_id" not in api.network()


P1, P2 = "11111111111111111111111111111111", "22222222222222222222222222222222"


def _rbac(api, policy_id, target):  # type: ignore[no-untyped-def]
    return api.post("/v2.0/rbac-policies", {"rbac_policy": {
        "object_type": "qos_policy", "object_id": policy_id, "action": "access_as_shared", "target_tenant": target}})


def test_rbac_sharing(tmp_path, database_url):
    with ml2_server(tmp_path, database_url, service_plugins=PLUGINS) as (api, _):
        pol = _policy(api)
        one, two = api.as_project(P1), api.as_project(P2)
        _fault(one.get(f"/v2.0/qos/policies/{pol['id']}"), 404, "QosPolicyNotFound")
        r = _rbac(api, pol["id"], P1)
        assert r.status_code == 201, r.text
        entry = r.json()["rbac_policy"]
        assert entry["target_tenant"] == P1 and entry["object_type"] == "qos_policy"
        assert one.get(f"/v2.0/qos/policies/{pol['id']}").json()["policy"]["shared"] is True
        _fault(two.get(f"/v2.0/qos/policies/{pol['id']}"), 404, "QosPolicyNotFound")
        assert one.get("/v2.0/rbac-policies").json()["rbac_policies"] == []  # the entry is the admin's
        _fault(one.post("/v2.0/rbac-policies", {"rbac_policy": {"object_type": "qos_policy", "object_id": pol["id"],
               "action": "access_as_shared", "target_tenant": P2}}), 400, "InvalidInput")
        _fault(_rbac(api, pol["id"], P1), 409, "DuplicateRbacPolicy")
        one.network(qos_policy_id=pol["id"])
        _fault(api.delete(f"/v2.0/rbac-policies/{entry['id']}"), 409, "RbacPolicyInUse")
        wild = _rbac(api, pol["id"], "*").json()["rbac_policy"]
        assert api.delete(f"/v2.0/rbac-policies/{entry['id']}").status_code == 204
        _fault(api.delete(f"/v2.0/rbac-policies/{wild['id']}"), 409, "RbacPolicyInUse")
        _fault(api.put(f"/v2.0/rbac-policies/{wild['id']}", {"rbac_policy": {"target_tenant": P2}}), 409, "RbacPolicyInUse")
        # as Neutron, the retarget's new project does not count: P1 uses the policy through '*' now
        _fault(api.put(f"/v2.0/rbac-policies/{wild['id']}", {"rbac_policy": {"target_tenant": P1}}), 409, "RbacPolicyInUse")
        _fault(api.put(f"/v2.0/qos/policies/{pol['id']}", {"policy": {"shared": False}}), 409, "RbacPolicyInUse")
        # shared=True on a policy is the wildcard entry
        other = _policy(api, shared=True)
        listed = api.get(f"/v2.0/rbac-policies?object_id={other['id']}").json()["rbac_policies"]
        assert [(e["target_tenant"], e["action"]) for e in listed] == [("*", "access_as_shared")]
        assert api.put(f"/v2.0/qos/policies/{other['id']}", {"policy": {"shared": False}}).json()["policy"]["shared"] is False
        assert api.get(f"/v2.0/rbac-policies?object_id={other['id']}").json()["rbac_policies"] == []
        # a policy's RBAC entries go with it (one rbac_policies table, no foreign key)
        _rbac(api, other["id"], P2)
        assert api.delete(f"/v2.0/qos/policies/{other['id']}").status_code == 204
        assert api.get(f"/v2.0/rbac-policies?object_id={other['id']}").json()["rbac_policies"] == []
