"""QoS minimum packet rate rules (qos-pps-minimum) and the ports' ``resource_request``
(port-resource-request, port-resource-request-groups) through the HTTP API."""

from __future__ import annotations

import uuid

import pytest

from tests.api.ml2_support import ml2_server

pytestmark = pytest.mark.api


def _fault(r, status, type_):  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.json()["NeutronError"]["type"] == type_, r.text


def _policy(api, **attrs):  # type: ignore[no-untyped-def]
    r = api.post("/v2.0/qos/policies", {"policy": {"name": "p", **attrs}})
    assert r.status_code == 201, r.text
    return r.json()["policy"]


def _rule(api, policy_id, collection, **values):  # type: ignore[no-untyped-def]
    r = api.post(f"/v2.0/qos/policies/{policy_id}/{collection}", {collection[:-1]: values})
    assert r.status_code == 201, r.text
    return r.json()[collection[:-1]]


def test_minimum_packet_rate_rules(tmp_path, database_url):
    with ml2_server(tmp_path, database_url) as (api, _):
        aliases = {e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}
        assert {"qos-pps-minimum", "port-resource-request", "port-resource-request-groups"} <= aliases
        pol = _policy(api)
        base = f"/v2.0/qos/policies/{pol['id']}/minimum_packet_rate_rules"
        _fault(api.post(base, {"minimum_packet_rate_rule": {"direction": "egress"}}), 400, "HTTPBadRequest")
        _fault(api.post(base, {"minimum_packet_rate_rule": {"min_kpps": 1, "direction": "up"}}), 400, "HTTPBadRequest")
        rule = _rule(api, pol["id"], "minimum_packet_rate_rules", min_kpps=1138)
        assert rule == {"id": rule["id"], "min_kpps": 1138, "direction": "egress"}
        _fault(api.post(base, {"minimum_packet_rate_rule": {"min_kpps": 2}}), 409, "NeutronDbObjectDuplicateEntry")
        # the directionless form and the directed ones do not mix
        _fault(api.post(base, {"minimum_packet_rate_rule": {"min_kpps": 2, "direction": "any"}}), 409,
               "QoSRuleParameterConflict")
        assert _rule(api, pol["id"], "minimum_packet_rate_rules", min_kpps=3, direction="ingress")["direction"] == "ingress"
        up = api.put(f"{base}/{rule['id']}", {"minimum_packet_rate_rule": {"min_kpps": 1200}})
        assert up.status_code == 200 and up.json()["minimum_packet_rate_rule"]["min_kpps"] == 1200
        _fault(api.put(f"{base}/{rule['id']}", {"minimum_packet_rate_rule": {"direction": "any"}}), 409,
               "QoSRuleParameterConflict")
        shown = api.get(f"/v2.0/qos/policies/{pol['id']}").json()["policy"]["rules"]
        assert sorted((r["type"], r["direction"]) for r in shown) == [("minimum_packet_rate", "egress"),
                                                                        ("minimum_packet_rate", "ingress")]
        assert len(api.get(base).json()["minimum_packet_rate_rules"]) == 2
        assert api.delete(f"{base}/{rule['id']}").status_code == 204
        _fault(api.get(f"{base}/{rule['id']}"), 404, "QosRuleNotFound")
        _fault(api.as_project("p-user").post(base, {"minimum_packet_rate_rule": {"min_kpps": 1}}), 403,
               "PolicyNotAuthorized")
        details = api.get("/v2.0/qos/rule-types/minimum_packet_rate").json()["rule_type"]
        params = {p["parameter_name"]: p for p in details["drivers"][0]["supported_parameters"]}
        assert params["direction"]["parameter_values"] == ["any", "egress", "ingress"]


def test_port_resource_request(tmp_path, database_url):
    with ml2_server(tmp_path, database_url) as (api, _):
        pol = _policy(api, shared=True)
        egr = _rule(api, pol["id"], "minimum_bandwidth_rules", min_kbps=1000, direction="egress")
        igr = _rule(api, pol["id"], "minimum_bandwidth_rules", min_kbps=2000, direction="ingress")
        user = api.as_project("p-user")
        vlan = api.post("/v2.0/networks", {"network": {"name": "v", "provider:network_type": "vlan",
                        "provider:physical_network": "physnet1", "shared": True}}).json()["network"]  # fmt: skip
        port = user.port(vlan["id"], qos_policy_id=pol["id"])
        assert "resource_request" not in port  # admin-only, as in Neutron
        assert "resource_request" not in user.get(f"/v2.0/ports/{port['id']}").json()["port"]
        rr = api.get(f"/v2.0/ports/{port['id']}").json()["port"]["resource_request"]
        bw_id = str(uuid.uuid5(uuid.UUID(port["id"]), ":".join(sorted([egr["id"], igr["id"]]))))
        assert rr == {"request_groups": [{"id": bw_id, "required": ["CUSTOM_PHYSNET_PHYSNET1", "CUSTOM_VNIC_TYPE_NORMAL"],
                                          "resources": {"NET_BW_EGR_KILOBIT_PER_SEC": 1000,
                                                        "NET_BW_IGR_KILOBIT_PER_SEC": 2000}}],
                      "same_subtree": [bw_id]}  # fmt: skip
        pps = _rule(api, pol["id"], "minimum_packet_rate_rules", min_kpps=500, direction="any")
        rr = api.get(f"/v2.0/ports?id={port['id']}").json()["ports"][0]["resource_request"]
        pps_id = str(uuid.uuid5(uuid.UUID(port["id"]), pps["id"]))
        assert rr["same_subtree"] == [bw_id, pps_id]
        assert rr["request_groups"][1] == {"id": pps_id, "required": ["CUSTOM_VNIC_TYPE_NORMAL"],
                                           "resources": {"NET_PACKET_RATE_KILOPACKET_PER_SEC": 500}}  # fmt: skip
        cleared = user.put(f"/v2.0/ports/{port['id']}", {"port": {"qos_policy_id": None}})
        assert cleared.status_code == 200, cleared.text
        assert api.get(f"/v2.0/ports/{port['id']}").json()["port"]["resource_request"] is None
        # inherited from the network; a tunnelled network's trait; a policy without minimum rules: None
        tunnel = user.network(qos_policy_id=pol["id"])
        inherited = api.get(f"/v2.0/ports/{user.port(tunnel['id'])['id']}").json()["port"]["resource_request"]
        assert inherited["request_groups"][0]["required"] == ["CUSTOM_NETWORK_TUNNEL_PROVIDER", "CUSTOM_VNIC_TYPE_NORMAL"]
        limits = _policy(api, shared=True)
        _rule(api, limits["id"], "bandwidth_limit_rules", max_kbps=1000)
        plain = user.port(tunnel["id"], qos_policy_id=limits["id"])
        assert api.get(f"/v2.0/ports/{plain['id']}").json()["port"]["resource_request"] is None
        fields = api.get(f"/v2.0/ports/{plain['id']}?fields=resource_request").json()["port"]
        assert fields == {"resource_request": None}
        # the vnic type's trait follows the port's binding:vnic_type
        direct = api.post("/v2.0/ports", {"port": {"network_id": vlan["id"], "qos_policy_id": pol["id"],
                                                   "binding:vnic_type": "direct"}}).json()["port"]  # fmt: skip
        groups = direct["resource_request"]["request_groups"]
        assert {tuple(g["required"]) for g in groups} == {("CUSTOM_PHYSNET_PHYSNET1", "CUSTOM_VNIC_TYPE_DIRECT"),
                                                          ("CUSTOM_VNIC_TYPE_DIRECT",)}  # fmt: skip
