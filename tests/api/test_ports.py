"""Ports through the HTTP API: MACs, fixed IPs, IPv6 automatic addresses, in-use rules."""

from __future__ import annotations

import ipaddress

import pytest

pytestmark = pytest.mark.api


def test_port_defaults(api):
    net = api.network()
    s = api.subnet(net["id"])
    p = api.port(net["id"], name="p1")
    assert p["status"] == "DOWN" and p["admin_state_up"] is True and p["device_owner"] == ""
    assert p["mac_address"].startswith("fa:16:3e:")
    [ip] = p["fixed_ips"]
    assert ip["subnet_id"] == s["id"]
    assert ipaddress.ip_address(ip["ip_address"]) in ipaddress.ip_network("10.0.0.0/24")
    assert ip["ip_address"] not in ("10.0.0.0", "10.0.0.1", "10.0.0.255")


def test_dhcp_port_gets_lowest(api):
    net = api.network()
    api.subnet(net["id"])
    p = api.port(net["id"], device_owner="network:dhcp")
    assert p["fixed_ips"][0]["ip_address"] == "10.0.0.2"


def test_explicit_fixed_ips(api):
    net = api.network()
    s = api.subnet(net["id"])
    p = api.port(net["id"], fixed_ips=[{"subnet_id": s["id"], "ip_address": "10.0.0.50"}])
    assert p["fixed_ips"] == [{"subnet_id": s["id"], "ip_address": "10.0.0.50"}]
    p2 = api.port(net["id"], fixed_ips=[{"ip_address": "10.0.0.51"}])
    assert p2["fixed_ips"][0]["subnet_id"] == s["id"]
    p3 = api.port(net["id"], fixed_ips=[{"subnet_id": s["id"]}])
    assert p3["fixed_ips"][0]["subnet_id"] == s["id"]
    r = api.post("/v2.0/ports", {"port": {"network_id": net["id"], "fixed_ips": [{"ip_address": "10.0.0.50"}]}})
    assert r.status_code == 409 and r.json()["NeutronError"]["type"] == "IpAddressAlreadyAllocated"
    r = api.post("/v2.0/ports", {"port": {"network_id": net["id"], "fixed_ips": [{"ip_address": "10.9.9.9"}]}})
    assert r.status_code == 400 and r.json()["NeutronError"]["type"] == "InvalidIpForNetwork"
    r = api.post("/v2.0/ports", {"port": {"network_id": net["id"], "fixed_ips": [{"subnet_id": s["id"], "ip_address": "10.0.0.255"}]}})
    assert r.status_code == 400 and r.json()["NeutronError"]["type"] == "InvalidIpForSubnet"
    r = api.post("/v2.0/ports", {"port": {"network_id": net["id"], "fixed_ips": [{"ip_address": "bad"}]}})
    assert r.status_code == 400
    p4 = api.port(net["id"], fixed_ips=[])
    assert p4["fixed_ips"] == []


def test_mac_rules(api):
    net = api.network()
    p = api.port(net["id"], mac_address="FA:16:3E:AA:BB:CC")
    assert p["mac_address"] == "fa:16:3e:aa:bb:cc"
    r = api.post("/v2.0/ports", {"port": {"network_id": net["id"], "mac_address": "fa:16:3e:aa:bb:cc"}})
    assert r.status_code == 409 and r.json()["NeutronError"]["type"] == "MacAddressInUse"
    other = api.network()
    api.port(other["id"], mac_address="fa:16:3e:aa:bb:cc")
    for bad in ("00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff", "zz:zz", "01:00:5e:00:00:01"):
        r = api.post("/v2.0/ports", {"port": {"network_id": net["id"], "mac_address": bad}})
        assert r.status_code == 400, bad


def test_exhausted_subnet(api):
    net = api.network()
    api.subnet(net["id"], "10.0.0.0/29")  # .2 - .6 : five addresses
    for _ in range(5):
        api.port(net["id"])
    r = api.post("/v2.0/ports", {"port": {"network_id": net["id"]}})
    assert r.status_code == 409
    assert r.json()["NeutronError"]["type"] == "IpAddressGenerationFailure"
    assert len(api.get("/v2.0/ports").json()["ports"]) == 5


def test_several_addresses_of_one_subnet_in_one_request(api):
    """Each address picked for a request is free of the ones the same request already picked:
    a /29 has five, and a port asking for all five gets five different ones (every time)."""
    net = api.network()
    sub = api.subnet(net["id"], "10.0.0.0/29")
    port = api.port(net["id"], fixed_ips=[{"subnet_id": sub["id"]}] * 5)
    assert len({f["ip_address"] for f in port["fixed_ips"]}) == 5


def test_slaac_addresses(api):
    net = api.network()
    v4 = api.subnet(net["id"], "10.0.0.0/24")
    v6 = api.subnet(net["id"], "2001:db8::/64", ipv6_ra_mode="slaac", ipv6_address_mode="slaac")
    p = api.port(net["id"], mac_address="fa:16:3e:11:22:33")
    got = {f["subnet_id"]: f["ip_address"] for f in p["fixed_ips"]}
    assert got[v6["id"]] == "2001:db8::f816:3eff:fe11:2233"
    assert v4["id"] in got
    r = api.post("/v2.0/ports", {"port": {"network_id": net["id"], "fixed_ips": [{"subnet_id": v6["id"], "ip_address": "2001:db8::5"}]}})
    assert r.status_code == 400 and r.json()["NeutronError"]["type"] == "AllocationOnAutoAddressSubnet"
    # a SLAAC subnet added later gives existing ports their address
    net2 = api.network()
    api.subnet(net2["id"], "10.5.0.0/24")
    q = api.port(net2["id"], mac_address="fa:16:3e:00:00:01")
    api.subnet(net2["id"], "2001:db8:5::/64", ipv6_address_mode="slaac", ipv6_ra_mode="slaac")
    q = api.get(f"/v2.0/ports/{q['id']}").json()["port"]
    assert "2001:db8:5:0:f816:3eff:fe00:1" in [f["ip_address"] for f in q["fixed_ips"]]


def test_dhcpv6_stateful(api):
    net = api.network()
    s = api.subnet(net["id"], "2001:db8:9::/64", ipv6_address_mode="dhcpv6-stateful", ipv6_ra_mode="dhcpv6-stateful")
    p = api.port(net["id"])
    assert p["fixed_ips"][0]["subnet_id"] == s["id"]
    assert ipaddress.ip_address(p["fixed_ips"][0]["ip_address"]) in ipaddress.ip_network("2001:db8:9::/64")


def test_update_fixed_ips(api):
    net = api.network()
    s = api.subnet(net["id"])
    p = api.port(net["id"], fixed_ips=[{"ip_address": "10.0.0.10"}])
    r = api.put(f"/v2.0/ports/{p['id']}", {"port": {"fixed_ips": [{"ip_address": "10.0.0.10"}, {"ip_address": "10.0.0.11"}]}})
    assert r.status_code == 200, r.text
    assert [f["ip_address"] for f in r.json()["port"]["fixed_ips"]] == ["10.0.0.10", "10.0.0.11"]
    r = api.put(f"/v2.0/ports/{p['id']}", {"port": {"fixed_ips": [{"subnet_id": s["id"], "ip_address": "10.0.0.12"}]}})
    assert [f["ip_address"] for f in r.json()["port"]["fixed_ips"]] == ["10.0.0.12"]
    q = api.port(net["id"], fixed_ips=[{"ip_address": "10.0.0.10"}])
    assert q["fixed_ips"][0]["ip_address"] == "10.0.0.10"


def test_network_in_use(api):
    net = api.network()
    api.subnet(net["id"])
    p = api.port(net["id"], device_owner="compute:nova")
    api.port(net["id"], device_owner="network:dhcp")
    r = api.delete(f"/v2.0/networks/{net['id']}")
    assert r.status_code == 409 and r.json()["NeutronError"]["type"] == "NetworkInUse"
    api.delete(f"/v2.0/ports/{p['id']}")
    assert api.delete(f"/v2.0/networks/{net['id']}").status_code == 204
    assert api.get("/v2.0/ports").json()["ports"] == []
    assert api.get("/v2.0/subnets").json()["subnets"] == []


def test_port_filters(api):
    net = api.network()
    api.subnet(net["id"])
    p = api.port(net["id"], fixed_ips=[{"ip_address": "10.0.0.77"}], device_owner="compute:nova")
    api.port(net["id"])
    got = api.get("/v2.0/ports?fixed_ips=ip_address%3D10.0.0.77").json()["ports"]
    assert [x["id"] for x in got] == [p["id"]]
    got = api.get("/v2.0/ports?device_owner=compute:nova").json()["ports"]
    assert [x["id"] for x in got] == [p["id"]]
    got = api.get("/v2.0/ports?fields=id&fields=name&fields=mac_address&fields=fixed_ips&fields=status").json()["ports"]
    assert all(set(x) == {"id", "name", "mac_address", "fixed_ips", "status"} for x in got)


def test_shared_network_ports(api):
    shared = api.network(shared=True, project_id="owner")
    api.subnet(shared["id"], project_id="owner")
    tenant = api.as_project("guest")
    p = tenant.port(shared["id"])
    assert p["project_id"] == "guest"
    assert len(tenant.get("/v2.0/subnets").json()["subnets"]) == 1
    r = tenant.post("/v2.0/subnets", {"subnet": {"network_id": shared["id"], "cidr": "10.7.0.0/24", "ip_version": 4}})
    assert r.status_code == 403
    private = api.network(project_id="owner")
    r = tenant.post("/v2.0/ports", {"port": {"network_id": private["id"]}})
    assert r.status_code == 404
