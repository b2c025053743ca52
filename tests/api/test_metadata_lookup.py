"""``get_metadata_port``: the one instance port with an address on some networks (the
metadata agent's lookup), through the bus as an agent calls it."""

from __future__ import annotations

from typing import Any

import pytest

from neutrino.contract import messages
from tests.api.test_bus_rpc import call

pytestmark = pytest.mark.api


def lookup(api: Any, networks: list[str], ip: str) -> Any:
    return call(api, messages.GET_METADATA_PORT, host="net1", network_ids=networks, ip_address=ip)["port"]


def test_the_port_with_the_address_on_the_networks(api):
    net = api.network()
    sub = api.subnet(net["id"], "10.5.0.0/24", dns_nameservers=["10.5.0.53"], host_routes=[
        {"destination": "192.168.0.0/16", "nexthop": "10.5.0.254"}])  # fmt: skip
    vm = api.port(net["id"], name="vm1", device_owner="compute:nova", device_id="a1b2c3d4-0000-4000-8000-000000000001",
                  fixed_ips=[{"subnet_id": sub["id"], "ip_address": "10.5.0.10"}])  # fmt: skip
    port = lookup(api, [net["id"]], "10.5.0.10")
    assert port["port_id"] == vm["id"] and port["device_id"] == vm["device_id"] and port["name"] == "vm1"
    assert port["project_id"] == vm["project_id"] and port["mac_address"] == vm["mac_address"]
    assert port["mtu"] == net["mtu"] and port["floating_ips"] == []
    fixed = port["fixed_ips"][0]
    assert fixed["cidr"] == "10.5.0.0/24" and fixed["gateway_ip"] == "10.5.0.1" and fixed["enable_dhcp"] is True
    assert fixed["dns_nameservers"] == ["10.5.0.53"] and fixed["host_routes"] == [["192.168.0.0/16", "10.5.0.254"]]


def test_nothing_for_an_unknown_address_another_network_or_a_network_port(api):
    net, other = api.network(), api.network()
    sub = api.subnet(net["id"], "10.6.0.0/24")
    api.subnet(other["id"], "10.7.0.0/24")
    api.port(net["id"], device_owner="compute:nova", fixed_ips=[{"subnet_id": sub["id"], "ip_address": "10.6.0.10"}])
    api.port(net["id"], device_owner="network:router_interface", device_id="r1",
             fixed_ips=[{"subnet_id": sub["id"], "ip_address": "10.6.0.1"}])  # fmt: skip
    assert lookup(api, [net["id"]], "10.6.0.11") is None  # an address nobody holds (a spoofed one)
    assert lookup(api, [other["id"]], "10.6.0.10") is None  # not on the networks the request came from
    assert lookup(api, [net["id"]], "10.6.0.1") is None  # the router's own address
    assert lookup(api, [], "10.6.0.10") is None


def test_the_floating_ips_of_the_port(api):
    from tests.api.l3_support import add_if, ext_net, make_router

    ext, _ = ext_net(api)
    router = make_router(api, external_gateway_info={"network_id": ext["id"]})
    net = api.network()
    sub = api.subnet(net["id"], "10.4.0.0/24")
    assert add_if(api, router["id"], subnet_id=sub["id"]).status_code == 200
    vm = api.port(net["id"], device_owner="compute:nova", fixed_ips=[{"subnet_id": sub["id"], "ip_address": "10.4.0.10"}])
    r = api.post("/v2.0/floatingips", {"floatingip": {"floating_network_id": ext["id"], "port_id": vm["id"]}})
    assert r.status_code == 201, r.text
    assert lookup(api, [net["id"]], "10.4.0.10")["floating_ips"] == [r.json()["floatingip"]["floating_ip_address"]]
