"""Subnets through the HTTP API: IPAM defaults, validation, IPv6 modes, deletion rules."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.api


def test_v4_defaults(api):
    net = api.network()
    s = api.subnet(net["id"], "10.0.0.5/24")
    assert s["cidr"] == "10.0.0.0/24"
    assert s["gateway_ip"] == "10.0.0.1"
    assert s["allocation_pools"] == [{"start": "10.0.0.2", "end": "10.0.0.254"}]
    assert s["enable_dhcp"] is True and s["dns_nameservers"] == [] and s["host_routes"] == []
    assert s["ipv6_ra_mode"] is None and s["subnetpool_id"] is None
    n = api.get(f"/v2.0/networks/{net['id']}").json()["network"]
    assert n["subnets"] == [s["id"]] and n["revision_number"] == 1


def test_gateway_in_the_middle_splits_pool(api):
    net = api.network()
    s = api.subnet(net["id"], "10.1.0.0/24", gateway_ip="10.1.0.100")
    assert s["allocation_pools"] == [
        {"start": "10.1.0.1", "end": "10.1.0.99"},
        {"start": "10.1.0.101", "end": "10.1.0.254"},
    ]


def test_no_gateway(api):
    net = api.network()
    s = api.subnet(net["id"], "10.2.0.0/29", gateway_ip=None)
    assert s["gateway_ip"] is None
    assert s["allocation_pools"] == [{"start": "10.2.0.1", "end": "10.2.0.6"}]


def test_v6_slaac_and_stateful(api):
    net = api.network()
    s = api.subnet(net["id"], "2001:db8::/64", ipv6_ra_mode="slaac", ipv6_address_mode="slaac")
    assert s["gateway_ip"] == "2001:db8::1"
    assert s["allocation_pools"] == [{"start": "2001:db8::2", "end": "2001:db8::ffff:ffff:ffff:ffff"}]
    net2 = api.network()
    s2 = api.subnet(net2["id"], "2001:db8:1::/64", ipv6_address_mode="dhcpv6-stateful")
    assert s2["ipv6_address_mode"] == "dhcpv6-stateful"


@pytest.mark.parametrize(
    "attrs, status, type_",
    [
        ({"cidr": "10.0.0.0/33"}, 400, None),
        ({"cidr": "not-a-cidr"}, 400, None),
        ({"cidr": "10.0.0.0/24", "ip_version": 6}, 400, None),
        ({"cidr": "10.0.0.0/24", "gateway_ip": "10.0.0.0"}, 400, None),
        ({"cidr": "10.0.0.0/24", "gateway_ip": "300.1.1.1"}, 400, None),
        ({"cidr": "10.0.0.0/24", "allocation_pools": [{"start": "10.0.0.9", "end": "10.0.0.2"}]}, 400, "InvalidAllocationPool"),
        ({"cidr": "10.0.0.0/24", "allocation_pools": [{"start": "10.0.1.2", "end": "10.0.1.9"}]}, 400, "OutOfBoundsAllocationPool"),
        (
            {"cidr": "10.0.0.0/24", "allocation_pools": [
                {"start": "10.0.0.2", "end": "10.0.0.20"}, {"start": "10.0.0.10", "end": "10.0.0.30"}]},
            409,
            "OverlappingAllocationPools",
        ),
        ({"cidr": "10.0.0.0/24", "gateway_ip": "10.0.0.5",
          "allocation_pools": [{"start": "10.0.0.2", "end": "10.0.0.20"}]}, 409, "GatewayConflictWithAllocationPools"),
        ({"cidr": "10.0.0.0/24", "dns_nameservers": ["1.1.1.1", "1.1.1.1"]}, 400, None),
        ({"cidr": "10.0.0.0/24", "dns_nameservers": [f"1.1.1.{i}" for i in range(6)]}, 400, None),
        ({"cidr": "10.0.0.0/24", "host_routes": [{"destination": "x", "nexthop": "10.0.0.9"}]}, 400, None),
        ({"cidr": "2001:db8::/64", "ip_version": 6, "ipv6_ra_mode": "slaac", "ipv6_address_mode": "dhcpv6-stateful"}, 400, None),
        ({"cidr": "2001:db8::/80", "ip_version": 6, "ipv6_address_mode": "slaac"}, 400, None),
        ({"cidr": "10.0.0.0/24", "network_id": "not-a-uuid"}, 400, None),
        ({"cidr": "10.0.0.0/24", "network_id": "8c0a3a6e-5ad2-4a3b-9a77-0a1a0a1a0a1a"}, 404, "NetworkNotFound"),
    ],
)
def test_bad_subnets(api, attrs, status, type_):
    net = api.network()
    body = {"network_id": net["id"], "ip_version": 4, **attrs}
    r = api.post("/v2.0/subnets", {"subnet": body})
    assert r.status_code == status, r.text
    if type_:
        assert r.json()["NeutronError"]["type"] == type_
    assert api.get("/v2.0/subnets").json()["subnets"] == []


def test_overlap_on_same_network_only(api):
    net = api.network()
    api.subnet(net["id"], "10.0.0.0/24")
    r = api.post("/v2.0/subnets", {"subnet": {"network_id": net["id"], "cidr": "10.0.0.128/25", "ip_version": 4}})
    assert r.status_code == 400 and "overlaps" in r.json()["NeutronError"]["message"]
    other = api.network()
    api.subnet(other["id"], "10.0.0.0/24")


def test_update_subnet(api):
    net = api.network()
    s = api.subnet(net["id"], "10.0.0.0/24")
    body = {"subnet": {"dns_nameservers": ["8.8.8.8"], "host_routes": [{"destination": "10.9.0.0/16", "nexthop": "10.0.0.9"}],
                       "allocation_pools": [{"start": "10.0.0.10", "end": "10.0.0.20"}], "name": "s"}}
    r = api.put(f"/v2.0/subnets/{s['id']}", body)
    assert r.status_code == 200, r.text
    got = r.json()["subnet"]
    assert got["dns_nameservers"] == ["8.8.8.8"] and got["allocation_pools"] == [{"start": "10.0.0.10", "end": "10.0.0.20"}]
    assert api.put(f"/v2.0/subnets/{s['id']}", {"subnet": {"cidr": "10.1.0.0/24"}}).status_code == 400


def test_delete_subnet_in_use(api):
    net = api.network()
    s = api.subnet(net["id"])
    p = api.port(net["id"])
    r = api.delete(f"/v2.0/subnets/{s['id']}")
    assert r.status_code == 409 and r.json()["NeutronError"]["type"] == "SubnetInUse"
    api.delete(f"/v2.0/ports/{p['id']}")
    api.port(net["id"], device_owner="network:dhcp")
    assert api.delete(f"/v2.0/subnets/{s['id']}").status_code == 204


def test_filter_subnets(api):
    net = api.network()
    api.subnet(net["id"], "10.0.0.0/24")
    api.subnet(net["id"], "2001:db8::/64")
    got = api.get("/v2.0/subnets?ip_version=6").json()["subnets"]
    assert [s["cidr"] for s in got] == ["2001:db8::/64"]
    got = api.get(f"/v2.0/subnets?network_id={net['id']}&cidr=10.0.0.0/24").json()["subnets"]
    assert len(got) == 1


def test_subnets_of_external_networks_are_visible_to_every_project(api):
    """As in Neutron: a project lists and shows the subnets of external (and shared) networks,
    but may not change them nor route them on its own router."""
    ext = api.network(name="public", **{"router:external": True})
    ext_sub = api.subnet(ext["id"], "172.24.4.0/24")
    private = api.network(name="private")
    private_sub = api.subnet(private["id"], "10.9.0.0/24")
    other = api.as_project("p-other")
    assert [s["id"] for s in other.get("/v2.0/subnets").json()["subnets"]] == [ext_sub["id"]]
    assert other.get(f"/v2.0/subnets/{ext_sub['id']}").status_code == 200
    assert other.get(f"/v2.0/subnets/{private_sub['id']}").status_code == 404
    assert other.put(f"/v2.0/subnets/{ext_sub['id']}", {"subnet": {"name": "x"}}).status_code == 403
    assert other.delete(f"/v2.0/subnets/{ext_sub['id']}").status_code == 403
    router = other.post("/v2.0/routers", {"router": {"name": "r"}}).json()["router"]
    r = other.put(f"/v2.0/routers/{router['id']}/add_router_interface", {"subnet_id": ext_sub["id"]})
    assert r.status_code == 400 and "not owned by project" in r.json()["NeutronError"]["message"]


def test_subnet_external_network_attribute_and_filter(api):
    """subnet-external-network: a subnet shows its network's router:external (read-only) and
    lists filter on it, as Neutron does."""
    aliases = {e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}
    assert "subnet-external-network" in aliases
    ext = api.network(**{"router:external": True})
    public = api.subnet(ext["id"], "172.24.4.0/24")
    private = api.subnet(api.network()["id"], "10.0.0.0/24")
    assert public["router:external"] is True and private["router:external"] is False
    shown = api.get(f"/v2.0/subnets/{private['id']}").json()["subnet"]
    assert shown["router:external"] is False
    got = lambda q: [s["id"] for s in api.get("/v2.0/subnets" + q).json()["subnets"]]  # noqa: E731
    assert got("?router:external=True") == [public["id"]]
    assert got("?router:external=false") == [private["id"]]
    assert got("?router:external=true&fields=id") == [public["id"]]
    r = api.put(f"/v2.0/subnets/{private['id']}", {"subnet": {"router:external": True}})
    assert r.status_code == 400, r.text
    r = api.post("/v2.0/subnets", {"subnet": {"network_id": ext["id"], "cidr": "172.25.0.0/24",
                                              "ip_version": 4, "router:external": False}})
    assert r.status_code == 400, r.text
    assert api.put(f"/v2.0/networks/{ext['id']}", {"network": {"router:external": False}}).status_code == 200
    assert api.get(f"/v2.0/subnets/{public['id']}").json()["subnet"]["router:external"] is False
    member = api.as_project("pm")
    assert member.get("/v2.0/subnets?router:external=true").json()["subnets"] == []
