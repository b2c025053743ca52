"""Floating IPs through the HTTP API: allocation, association, router_id, errors, isolation."""

from __future__ import annotations

import ipaddress

import pytest

from tests.addresses import free_hosts

pytestmark = pytest.mark.api

ZERO = "00000000-0000-0000-0000-000000000000"


def err(r) -> str:  # type: ignore[no-untyped-def]
    return r.json()["NeutronError"]["type"]


def topology(api, owner=None):  # type: ignore[no-untyped-def]
    """External network (admin), a router with its gateway there, an internal subnet on it,
    and an instance port; ``owner`` (an Api) owns the router, network and port."""
    owner = owner or api
    ext = api.network(name="ext", **{"router:external": True})
    ext_sub = api.subnet(ext["id"], "172.24.4.0/24")
    net = owner.network(name="int")
    sub = owner.subnet(net["id"], "10.0.0.0/24")
    r = owner.post("/v2.0/routers", {"router": {"name": "r", "external_gateway_info": {"network_id": ext["id"]}}})
    assert r.status_code == 201, r.text
    router = r.json()["router"]
    res = owner.put(f"/v2.0/routers/{router['id']}/add_router_interface", {"subnet_id": sub["id"]})
    assert res.status_code == 200, res.text
    port = owner.port(net["id"], name="vm")
    return {"ext": ext, "ext_sub": ext_sub, "net": net, "sub": sub, "router": router, "port": port}


def create(api, **attrs):  # type: ignore[no-untyped-def]
    return api.post("/v2.0/floatingips", {"floatingip": attrs})


def fip_ports(api, ext_id: str) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    return api.get(f"/v2.0/ports?network_id={ext_id}&device_owner=network:floatingip").json()["ports"]


def test_create_and_hidden_port(api):
    ext = api.network(**{"router:external": True})
    sub = api.subnet(ext["id"], "172.24.4.0/24")
    r = create(api, floating_network_id=ext["id"], description="d")
    assert r.status_code == 201, r.text
    fip = r.json()["floatingip"]
    assert ipaddress.ip_address(fip["floating_ip_address"]) in ipaddress.ip_network("172.24.4.0/24")
    assert fip["status"] == "DOWN" and fip["description"] == "d"
    assert fip["router_id"] is None and fip["port_id"] is None and fip["fixed_ip_address"] is None
    assert fip["project_id"] == fip["tenant_id"] == "p-admin" and fip["revision_number"] == 0
    assert "subnet_id" not in fip
    [port] = fip_ports(api, ext["id"])
    assert port["device_id"] == fip["id"] and port["status"] == "N/A" and port["project_id"] == ""
    assert port["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": fip["floating_ip_address"]}]
    shown = api.get(f"/v2.0/floatingips/{fip['id']}").json()["floatingip"]
    assert shown == fip
    guarded = api.delete(f"/v2.0/ports/{port['id']}")
    assert guarded.status_code == 409 and err(guarded) == "ServicePortInUse"
    assert api.delete(f"/v2.0/floatingips/{fip['id']}").status_code == 204
    assert fip_ports(api, ext["id"]) == []
    gone = api.get(f"/v2.0/floatingips/{fip['id']}")
    assert gone.status_code == 404 and err(gone) == "FloatingIPNotFound"


def test_create_errors(api):
    internal = api.network()
    api.subnet(internal["id"])
    r = create(api)
    assert r.status_code == 400 and "floating_network_id" in r.text
    r = create(api, floating_network_id=internal["id"])
    assert r.status_code == 400 and err(r) == "BadRequest"
    assert r.json()["NeutronError"]["message"] == (
        f"Bad floatingip request: Network {internal['id']} is not a valid external network."
    )
    r = create(api, floating_network_id=ZERO)
    assert r.status_code == 400
    v6 = api.network(**{"router:external": True})
    api.subnet(v6["id"], "2001:db8::/64")
    r = create(api, floating_network_id=v6["id"])
    assert r.status_code == 400 and "does not contain any IPv4 subnet" in r.text
    ext = api.network(**{"router:external": True})
    sub = api.subnet(ext["id"], "172.24.4.0/29")  # .2 - .6
    r = create(api, floating_network_id=ext["id"], floating_ip_address="172.24.4.5")
    assert r.status_code == 201 and r.json()["floatingip"]["floating_ip_address"] == "172.24.4.5"
    r = create(api, floating_network_id=ext["id"], floating_ip_address="172.24.4.5")
    assert r.status_code == 409 and err(r) == "IpAddressAlreadyAllocated"
    r = create(api, floating_network_id=ext["id"], subnet_id=sub["id"])
    assert r.status_code == 201
    for _ in range(3):
        assert create(api, floating_network_id=ext["id"]).status_code == 201
    r = create(api, floating_network_id=ext["id"])
    assert r.status_code == 400 and err(r) == "ExternalIpAddressExhausted"
    assert r.json()["NeutronError"]["message"] == f"Unable to find any IP address on external network {ext['id']}."
    r = create(api, floating_network_id=ext["id"], fixed_ip_address="10.0.0.3")
    assert r.status_code == 400 and "without a port_id" in r.text
    assert len(api.get(f"/v2.0/floatingips?floating_network_id={ext['id']}").json()["floatingips"]) == 5
    assert len(fip_ports(api, ext["id"])) == 5


def test_associate_at_create_and_router_id(api):
    t = topology(api)
    r = create(api, floating_network_id=t["ext"]["id"], port_id=t["port"]["id"])
    assert r.status_code == 201, r.text
    fip = r.json()["floatingip"]
    assert fip["router_id"] == t["router"]["id"] and fip["port_id"] == t["port"]["id"]
    assert fip["fixed_ip_address"] == t["port"]["fixed_ips"][0]["ip_address"]
    again = create(api, floating_network_id=t["ext"]["id"], port_id=t["port"]["id"])
    assert again.status_code == 409 and err(again) == "FloatingIPPortAlreadyAssociated"
    in_use = api.put(f"/v2.0/routers/{t['router']['id']}/remove_router_interface", {"subnet_id": t["sub"]["id"]})
    assert in_use.status_code == 409 and err(in_use) == "RouterInterfaceInUseByFloatingIP"
    gw_in_use = api.put(f"/v2.0/routers/{t['router']['id']}", {"router": {"external_gateway_info": {}}})
    assert gw_in_use.status_code == 409 and err(gw_in_use) == "RouterExternalGatewayInUseByFloatingIp"
    assert len(fip_ports(api, t["ext"]["id"])) == 1
    by_port = api.get(f"/v2.0/floatingips?port_id={t['port']['id']}").json()["floatingips"]
    assert [f["id"] for f in by_port] == [fip["id"]]
    by_ip = api.get(f"/v2.0/floatingips?fixed_ip_address={fip['fixed_ip_address']}").json()["floatingips"]
    assert [f["id"] for f in by_ip] == [fip["id"]]


def test_no_router_leaves_nothing(api):
    ext = api.network(**{"router:external": True})
    api.subnet(ext["id"], "172.24.4.0/24")
    net = api.network()
    sub = api.subnet(net["id"], "10.0.0.0/24")
    port = api.port(net["id"])
    r = create(api, floating_network_id=ext["id"], port_id=port["id"])
    assert r.status_code == 404 and err(r) == "ExternalGatewayForFloatingIPNotFound"
    assert r.json()["NeutronError"]["message"] == (
        f"External network {ext['id']} is not reachable from subnet {sub['id']}.  "
        f"Therefore, cannot associate Port {port['id']} with a Floating IP."
    )
    assert api.get("/v2.0/floatingips").json()["floatingips"] == []
    assert fip_ports(api, ext["id"]) == []
    r = create(api, floating_network_id=ext["id"], port_id=ZERO)
    assert r.status_code == 404 and err(r) == "PortNotFound"


def test_fixed_address_choice(api):
    t = topology(api)
    net, sub = t["net"], t["sub"]
    two = api.port(net["id"], fixed_ips=[{"subnet_id": sub["id"]}, {"subnet_id": sub["id"]}])
    ips = [f["ip_address"] for f in two["fixed_ips"]]
    r = create(api, floating_network_id=t["ext"]["id"], port_id=two["id"])
    assert r.status_code == 400 and "multiple fixed IPv4 addresses" in r.text
    # an address of the subnet the port does not have (its two are random: a fixed one could be either)
    [absent] = free_hosts("10.0.0.0/24", ips, first=250)
    r = create(api, floating_network_id=t["ext"]["id"], port_id=two["id"], fixed_ip_address=absent)
    assert r.status_code == 400 and f"does not have fixed ip {absent}" in r.text
    r = create(api, floating_network_id=t["ext"]["id"], port_id=two["id"], fixed_ip_address="2001:db8::5")
    assert r.status_code == 400 and "not an IPv4 address" in r.text
    r = create(api, floating_network_id=t["ext"]["id"], port_id=two["id"], fixed_ip_address=ips[1])
    assert r.status_code == 201 and r.json()["floatingip"]["fixed_ip_address"] == ips[1]
    r = create(api, floating_network_id=t["ext"]["id"], port_id=two["id"], fixed_ip_address=ips[0])
    assert r.status_code == 201, "another fixed IP of the same port may have its own floating IP"
    nov4 = api.port(net["id"], fixed_ips=[])
    r = create(api, floating_network_id=t["ext"]["id"], port_id=nov4["id"])
    assert r.status_code == 400 and "no fixed IPv4 addresses" in r.text


def test_update_associate_disassociate(api):
    t = topology(api)
    fip = create(api, floating_network_id=t["ext"]["id"]).json()["floatingip"]
    url = f"/v2.0/floatingips/{fip['id']}"
    up = api.put(url, {"floatingip": {"port_id": t["port"]["id"]}})
    assert up.status_code == 200, up.text
    body = up.json()["floatingip"]
    assert body["router_id"] == t["router"]["id"] and body["revision_number"] == 1
    same = api.put(url, {"floatingip": {"description": "web"}}).json()["floatingip"]
    assert same["port_id"] == t["port"]["id"] and same["description"] == "web" and same["revision_number"] == 2
    bad = api.put(url, {"floatingip": {"fixed_ip_address": "10.0.0.9"}})
    assert bad.status_code == 400
    ro = api.put(url, {"floatingip": {"floating_network_id": t["ext"]["id"]}})
    assert ro.status_code == 400
    off = api.put(url, {"floatingip": {"port_id": None}}).json()["floatingip"]
    assert off["port_id"] is None and off["router_id"] is None and off["fixed_ip_address"] is None
    assert off["revision_number"] == 3
    assert api.put(url, {"floatingip": {"port_id": t["port"]["id"]}}).status_code == 200
    # deleting the instance port disassociates the floating IP
    assert api.delete(f"/v2.0/ports/{t['port']['id']}").status_code == 204
    after = api.get(url).json()["floatingip"]
    assert after["port_id"] is None and after["router_id"] is None and after["revision_number"] == 5
    # now the interface and the gateway may go
    assert api.put(f"/v2.0/routers/{t['router']['id']}/remove_router_interface",
                   {"subnet_id": t["sub"]["id"]}).status_code == 200
    assert api.put(f"/v2.0/routers/{t['router']['id']}",
                   {"router": {"external_gateway_info": None}}).status_code == 200


def test_empty_update_disassociates(api):
    """``{"floatingip": {}}`` disassociates, as ``port_id: null`` does (Neutron's l3_db)."""
    t = topology(api)
    fip = create(api, floating_network_id=t["ext"]["id"], port_id=t["port"]["id"]).json()["floatingip"]
    assert fip["port_id"] == t["port"]["id"]
    url = f"/v2.0/floatingips/{fip['id']}"
    r = api.put(url, {"floatingip": {}})
    assert r.status_code == 200, r.text
    off = r.json()["floatingip"]
    assert (off["port_id"], off["fixed_ip_address"], off["router_id"]) == (None, None, None)
    assert off["revision_number"] == fip["revision_number"] + 1
    assert api.get(url).json()["floatingip"]["port_id"] is None
    # nothing to disassociate: no change
    assert api.put(url, {"floatingip": {}}).json()["floatingip"]["revision_number"] == off["revision_number"]


def test_deleting_external_network_deletes_unassociated_floating_ips(api):
    t = topology(api)
    idle = create(api, floating_network_id=t["ext"]["id"]).json()["floatingip"]
    used = create(api, floating_network_id=t["ext"]["id"], port_id=t["port"]["id"]).json()["floatingip"]
    # an associated floating IP (and the router gateway) still block it, and nothing goes
    r = api.delete(f"/v2.0/networks/{t['ext']['id']}")
    assert r.status_code == 409 and err(r) == "NetworkInUse"
    assert api.get(f"/v2.0/floatingips/{idle['id']}").status_code == 200
    assert api.delete(f"/v2.0/floatingips/{used['id']}").status_code == 204
    assert api.put(f"/v2.0/routers/{t['router']['id']}/remove_router_interface",
                   {"subnet_id": t["sub"]["id"]}).status_code == 200
    assert api.put(f"/v2.0/routers/{t['router']['id']}",
                   {"router": {"external_gateway_info": None}}).status_code == 200
    other = api.as_project("p-other")
    theirs = create(other, floating_network_id=t["ext"]["id"]).json()["floatingip"]
    r = api.delete(f"/v2.0/networks/{t['ext']['id']}")
    assert r.status_code == 204, r.text
    for fip in (idle, theirs):
        assert api.get(f"/v2.0/floatingips/{fip['id']}").status_code == 404
    assert api.get("/v2.0/ports", params={"device_owner": "network:floatingip"}).json()["ports"] == []
    assert api.get("/v2.0/floatingips").json()["floatingips"] == []


def test_isolation_quota_and_tags(api):
    member = api.as_project("p1")
    t = topology(api, owner=member)
    fip = create(member, floating_network_id=t["ext"]["id"], port_id=t["port"]["id"])
    assert fip.status_code == 201, fip.text
    fip = fip.json()["floatingip"]
    assert fip["project_id"] == "p1" and fip["router_id"] == t["router"]["id"]
    other = api.as_project("p2")
    assert other.get(f"/v2.0/floatingips/{fip['id']}").status_code == 404
    assert other.get("/v2.0/floatingips").json()["floatingips"] == []
    assert other.delete(f"/v2.0/floatingips/{fip['id']}").status_code == 404
    theirs = create(other, floating_network_id=t["ext"]["id"]).json()["floatingip"]
    stolen = other.put(f"/v2.0/floatingips/{theirs['id']}", {"floatingip": {"port_id": t["port"]["id"]}})
    assert stolen.status_code == 404 and err(stolen) == "PortNotFound"
    # an admin associating a project's floating IP with another project's port: 400
    admin_cross = api.put(f"/v2.0/floatingips/{theirs['id']}", {"floatingip": {"port_id": t["port"]["id"]}})
    assert admin_cross.status_code == 409  # that fixed IP already has p1's floating IP
    reader = api.as_project("p1", roles="reader")
    assert reader.get(f"/v2.0/floatingips/{fip['id']}").status_code == 200
    assert create(reader, floating_network_id=t["ext"]["id"]).status_code == 403
    assert reader.put(f"/v2.0/floatingips/{fip['id']}", {"floatingip": {"port_id": None}}).status_code == 403
    assert api.put("/v2.0/quotas/p2", {"quota": {"floatingip": 1}}).status_code == 200
    over = create(other, floating_network_id=t["ext"]["id"])
    assert over.status_code == 409 and err(over) == "OverQuota"
    assert member.put(f"/v2.0/floatingips/{fip['id']}/tags", {"tags": ["a", "b"]}).status_code == 200
    tagged = member.get("/v2.0/floatingips?tags-any=b").json()["floatingips"]
    assert [f["id"] for f in tagged] == [fip["id"]]
    assert member.get(f"/v2.0/floatingips/{fip['id']}").json()["floatingip"]["tags"] == ["a", "b"]
    assert member.delete(f"/v2.0/floatingips/{fip['id']}").status_code == 204
