"""Routers through the HTTP API: CRUD, gateway, extra routes, isolation, quota, scheduling."""

from __future__ import annotations

import ipaddress

import pytest

from tests.api.l3_support import add_if, err, ext_net, make_router, remove_if, router_ports, set_gw, show

pytestmark = pytest.mark.api


def test_router_crud(api):
    r = make_router(api, description="d")
    assert r["status"] == "ACTIVE" and r["admin_state_up"] is True
    assert r["external_gateway_info"] is None and r["routes"] == []
    assert r["project_id"] == r["tenant_id"] == "p-admin" and r["revision_number"] == 0
    assert show(api, r["id"])["name"] == "r"
    up = api.put(f"/v2.0/routers/{r['id']}", {"router": {"name": "r2", "admin_state_up": False}}).json()["router"]
    assert up["name"] == "r2" and up["admin_state_up"] is False and up["revision_number"] == 1
    make_router(api, name="other")
    assert [x["name"] for x in api.get("/v2.0/routers?name=r2").json()["routers"]] == ["r2"]
    names = [x["name"] for x in api.get("/v2.0/routers?sort_key=name&sort_dir=desc").json()["routers"]]
    assert names == ["r2", "other"]
    assert api.delete(f"/v2.0/routers/{r['id']}").status_code == 204
    missing = api.get(f"/v2.0/routers/{r['id']}")
    assert missing.status_code == 404 and err(missing) == "RouterNotFound"
    assert api.put(f"/v2.0/routers/{r['id']}", {"router": {"name": "x"}}).status_code == 404


def test_router_bad_requests(api):
    r = api.post("/v2.0/routers", {"router": {"routes": []}})
    assert r.status_code == 400 and "not allowed in POST" in r.json()["NeutronError"]["message"]
    r = api.post("/v2.0/routers", {"router": {"external_gateway_info": {"enable_snat": True}}})
    assert r.status_code == 400
    r = api.post("/v2.0/routers", {"router": {"external_gateway_info": {"network_id": "nope"}}})
    assert r.status_code == 400
    r = api.post("/v2.0/routers", {"router": {"status": "DOWN"}})
    assert r.status_code == 400
    assert api.get("/v2.0/routers").json()["routers"] == []


def test_gateway_lifecycle(api):
    net, sub = ext_net(api)
    r = make_router(api)
    up = set_gw(api, r["id"], {"network_id": net["id"]})
    assert up.status_code == 200, up.text
    gw = up.json()["router"]["external_gateway_info"]
    assert gw["network_id"] == net["id"] and gw["enable_snat"] is True
    [fixed] = gw["external_fixed_ips"]
    assert fixed["subnet_id"] == sub["id"]
    assert ipaddress.ip_address(fixed["ip_address"]) in ipaddress.ip_network("172.24.4.0/24")
    assert up.json()["router"]["revision_number"] == 1
    [port] = router_ports(api, r["id"])
    assert port["device_owner"] == "network:router_gateway"
    assert port["project_id"] == "" and port["tenant_id"] == ""
    assert port["fixed_ips"] == gw["external_fixed_ips"]
    # the same gateway again changes nothing
    again = set_gw(api, r["id"], {"network_id": net["id"]}).json()["router"]
    assert again["revision_number"] == 1 and router_ports(api, r["id"])[0]["id"] == port["id"]
    # re-addressing keeps the port
    readdr = set_gw(api, r["id"], {"network_id": net["id"], "external_fixed_ips": [{"ip_address": "172.24.4.77"}]})
    assert readdr.status_code == 200, readdr.text
    assert readdr.json()["router"]["external_gateway_info"]["external_fixed_ips"] == [
        {"subnet_id": sub["id"], "ip_address": "172.24.4.77"}
    ]
    assert router_ports(api, r["id"])[0]["id"] == port["id"]
    snat = set_gw(api, r["id"], {"network_id": net["id"], "enable_snat": False}).json()["router"]
    assert snat["external_gateway_info"]["enable_snat"] is False
    for clear in ({}, None):
        cleared = set_gw(api, r["id"], clear)
        assert cleared.status_code == 200 and cleared.json()["router"]["external_gateway_info"] is None
        assert router_ports(api, r["id"]) == []
        set_gw(api, r["id"], {"network_id": net["id"]})
    assert api.delete(f"/v2.0/routers/{r['id']}").status_code == 204
    assert api.get(f"/v2.0/ports?network_id={net['id']}").json()["ports"] == []


def test_gateway_at_create_and_errors(api):
    net, sub = ext_net(api)
    r = make_router(api, external_gateway_info={"network_id": net["id"], "enable_snat": False,
                                                "external_fixed_ips": [{"subnet_id": sub["id"]}]})
    assert r["external_gateway_info"]["enable_snat"] is False and r["revision_number"] == 0
    internal = api.network()
    bad = api.post("/v2.0/routers", {"router": {"external_gateway_info": {"network_id": internal["id"]}}})
    assert bad.status_code == 400 and err(bad) == "BadRequest"
    assert bad.json()["NeutronError"]["message"] == (
        f"Bad router request: Network {internal['id']} is not an external network."
    )
    missing = api.post("/v2.0/routers", {"router": {"external_gateway_info": {"network_id": "1" * 8 + "-1111-1111-1111-" + "1" * 12}}})
    assert missing.status_code == 404 and err(missing) == "NetworkNotFound"
    same_as_gw = api.post("/v2.0/routers", {"router": {"external_gateway_info": {
        "network_id": net["id"], "external_fixed_ips": [{"ip_address": "172.24.4.1"}]}}})
    assert same_as_gw.status_code == 400 and "same as the gateway IP" in same_as_gw.text
    outside = api.post("/v2.0/routers", {"router": {"external_gateway_info": {
        "network_id": net["id"], "external_fixed_ips": [{"ip_address": "10.9.9.9"}]}}})
    assert outside.status_code == 400
    # nothing half-written: only the first router and its gateway port exist
    assert [x["id"] for x in api.get("/v2.0/routers").json()["routers"]] == [r["id"]]
    assert len(api.get(f"/v2.0/ports?network_id={net['id']}").json()["ports"]) == 1


def test_gateway_policy_for_members(api):
    net, _ = ext_net(api)
    member = api.as_project("p1")
    r = make_router(member, external_gateway_info={"network_id": net["id"]})
    assert r["external_gateway_info"]["network_id"] == net["id"]
    for extra in ({"enable_snat": False}, {"external_fixed_ips": [{"ip_address": "172.24.4.50"}]}):
        denied = set_gw(member, r["id"], {"network_id": net["id"], **extra})
        assert denied.status_code == 403, extra
        denied = member.post("/v2.0/routers", {"router": {"external_gateway_info": {"network_id": net["id"], **extra}}})
        assert denied.status_code == 403
    other_internal = api.network()  # another project's non-external network is not found
    hidden = set_gw(member, r["id"], {"network_id": other_internal["id"]})
    assert hidden.status_code == 404 and err(hidden) == "NetworkNotFound"


def test_extra_routes(api):
    net = api.network()
    sub = api.subnet(net["id"], "10.0.0.0/24")
    r = make_router(api)
    url = f"/v2.0/routers/{r['id']}"
    unconnected = api.put(url, {"router": {"routes": [{"destination": "192.168.0.0/24", "nexthop": "10.0.0.5"}]}})
    assert unconnected.status_code == 400 and err(unconnected) == "InvalidRoutes"
    assert "the nexthop is not connected with router" in unconnected.text
    add_if(api, r["id"], subnet_id=sub["id"])
    routes = [{"destination": "192.168.0.0/24", "nexthop": "10.0.0.5"},
              {"destination": "192.168.0.0/24", "nexthop": "10.0.0.6"}]
    up = api.put(url, {"router": {"routes": routes}})
    assert up.status_code == 200, up.text
    assert up.json()["router"]["routes"] == routes and up.json()["router"]["revision_number"] == 2
    own = api.put(url, {"router": {"routes": [{"destination": "192.168.1.0/24", "nexthop": "10.0.0.1"}]}})
    assert own.status_code == 400 and "the nexthop is used by router" in own.text
    bad = api.put(url, {"router": {"routes": [{"destination": "192.168.1.0/24"}]}})
    assert bad.status_code == 400
    many = [{"destination": f"192.168.{i}.0/24", "nexthop": "10.0.0.5"} for i in range(31)]
    exhausted = api.put(url, {"router": {"routes": many}})
    assert exhausted.status_code == 400 and err(exhausted) == "RoutesExhausted"
    in_use = remove_if(api, r["id"], subnet_id=sub["id"])
    assert in_use.status_code == 409 and err(in_use) == "RouterInterfaceInUseByRoute"
    added = api.put(url + "/add_extraroutes", {"router": {"routes": [
        {"destination": "172.16.0.0/16", "nexthop": "10.0.0.7"}, routes[0]]}})
    assert added.status_code == 200, added.text
    assert len(added.json()["router"]["routes"]) == 3
    removed = api.put(url + "/remove_extraroutes", {"router": {"routes": [routes[0], routes[1]]}})
    assert removed.json()["router"]["routes"] == [{"destination": "172.16.0.0/16", "nexthop": "10.0.0.7"}]
    bad_body = api.put(url + "/add_extraroutes", {"router": {"routes": [], "name": "x"}})
    assert bad_body.status_code == 400
    bad_hop = api.put(url + "/add_extraroutes", {"router": {"routes": [{"destination": "1.0.0.0/8", "nexthop": "9.9.9.9"}]}})
    assert bad_hop.status_code == 400 and err(bad_hop) == "InvalidRoutes"
    cleared = api.put(url, {"router": {"routes": None}}).json()["router"]
    assert cleared["routes"] == []
    assert remove_if(api, r["id"], subnet_id=sub["id"]).status_code == 200


def test_isolation_and_readers(api):
    mine = make_router(api)
    member = api.as_project("p1")
    assert member.get(f"/v2.0/routers/{mine['id']}").status_code == 404
    assert member.get("/v2.0/routers").json()["routers"] == []
    assert member.delete(f"/v2.0/routers/{mine['id']}").status_code == 404
    theirs = make_router(member, name="theirs")
    assert theirs["project_id"] == "p1"
    admin_net = api.network()
    admin_sub = api.subnet(admin_net["id"], "10.5.0.0/24")
    hidden = add_if(member, theirs["id"], subnet_id=admin_sub["id"])
    assert hidden.status_code == 404 and err(hidden) == "SubnetNotFound"
    reader = api.as_project("p1", roles="reader")
    assert reader.get(f"/v2.0/routers/{theirs['id']}").status_code == 200
    assert reader.post("/v2.0/routers", {"router": {"name": "x"}}).status_code == 403
    assert reader.put(f"/v2.0/routers/{theirs['id']}", {"router": {"name": "x"}}).status_code == 403
    assert reader.delete(f"/v2.0/routers/{theirs['id']}").status_code == 403
    own_net = member.network()
    own_sub = member.subnet(own_net["id"], "10.6.0.0/24")
    assert add_if(reader, theirs["id"], subnet_id=own_sub["id"]).status_code == 403
    ok = add_if(member, theirs["id"], subnet_id=own_sub["id"])
    assert ok.status_code == 200 and ok.json()["project_id"] == "p1"
    assert [x["id"] for x in api.get("/v2.0/routers?project_id=p1").json()["routers"]] == [theirs["id"]]


def test_quota_and_tags(api):
    assert api.put("/v2.0/quotas/p1", {"quota": {"router": 1}}).status_code == 200
    member = api.as_project("p1")
    r = make_router(member)
    over = member.post("/v2.0/routers", {"router": {"name": "two"}})
    assert over.status_code == 409 and err(over) == "OverQuota"
    details = member.get("/v2.0/quotas/p1/details").json()["quota"]
    assert details["router"] == {"limit": 1, "used": 1, "reserved": 0}
    assert details["floatingip"]["limit"] == 50
    assert member.put(f"/v2.0/routers/{r['id']}/tags/blue").status_code == 201
    assert member.get("/v2.0/routers?tags=blue").json()["routers"][0]["id"] == r["id"]
    assert show(member, r["id"])["tags"] == ["blue"] and show(member, r["id"])["revision_number"] == 1


def test_extensions_listed(api):
    aliases = {e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}
    assert {"router", "ext-gw-mode", "extraroute", "extraroute-atomic"} <= aliases
    assert api.get("/v2.0/extensions/external-gateway-multihoming").status_code == 404


def test_router_scheduled_to_live_l3_agent(api):
    from tests.api.agent_support import report

    unhosted = make_router(api, name="before-agents")
    assert api.get(f"/v2.0/routers/{unhosted['id']}/l3-agents").json()["agents"] == []
    report(api, "net-node-1", "l3", start=True)
    net, _ = ext_net(api)
    r = make_router(api, external_gateway_info={"network_id": net["id"]})
    [agent] = api.get(f"/v2.0/routers/{r['id']}/l3-agents").json()["agents"]
    assert agent["host"] == "net-node-1" and agent["agent_type"] == "L3 agent"
    # a gateway change keeps the router where it is
    assert set_gw(api, r["id"], None).status_code == 200
    assert [a["id"] for a in api.get(f"/v2.0/routers/{r['id']}/l3-agents").json()["agents"]] == [agent["id"]]
    assert api.delete(f"/v2.0/routers/{r['id']}").status_code == 204
