"""Routers and floating IPs driven by the unmodified openstack CLI and openstacksdk.

One flow per client against the session's real server (keystone auth): external network,
router, interface, gateway, extra route, floating IP association, the in-use refusals a user
meets on the way, and the teardown in the order Neutron requires. Names carry an ``l3cli-`` /
``l3sdk-`` prefix because the server is shared with the other client tests.
"""

from __future__ import annotations

import ipaddress
import uuid

import pytest
from openstack import exceptions as sdk_exc

pytestmark = pytest.mark.clients


def test_router_and_floating_ip_with_the_cli(server):
    osc = server.osc
    ext = osc("network", "create", "--external", "l3cli-ext")
    assert ext["router:external"] is True
    ext_sub = osc("subnet", "create", "--network", "l3cli-ext", "--subnet-range", "172.30.0.0/24",
                  "--no-dhcp", "l3cli-ext-sub")
    net = osc("network", "create", "l3cli-net")
    sub = osc("subnet", "create", "--network", "l3cli-net", "--subnet-range", "10.30.0.0/24", "l3cli-sub")

    router = osc("router", "create", "l3cli-r1")
    assert router["status"] == "ACTIVE" and router["external_gateway_info"] is None
    osc("router", "add", "subnet", "l3cli-r1", "l3cli-sub")
    osc("router", "set", "--external-gateway", "l3cli-ext", "l3cli-r1")
    shown = osc("router", "show", "l3cli-r1")
    gw = shown["external_gateway_info"]
    assert gw["network_id"] == ext["id"] and gw["enable_snat"] is True
    assert gw["external_fixed_ips"][0]["subnet_id"] == ext_sub["id"]
    assert ipaddress.ip_address(gw["external_fixed_ips"][0]["ip_address"]) in ipaddress.ip_network("172.30.0.0/24")
    ports = osc("port", "list", "--router", "l3cli-r1", "--long")
    owners = sorted(p["Device Owner"] for p in ports)
    assert owners == ["network:router_gateway", "network:router_interface"]

    osc("router", "set", "--route", "destination=192.168.50.0/24,gateway=10.30.0.50", "l3cli-r1")
    assert osc("router", "show", "l3cli-r1")["routes"] == [
        {"destination": "192.168.50.0/24", "nexthop": "10.30.0.50"}
    ]
    err = server.osc_fail("router", "set", "--route", "destination=192.168.51.0/24,gateway=10.99.0.1", "l3cli-r1")
    assert "the nexthop is not connected with router" in err, err

    port = osc("port", "create", "--network", "l3cli-net", "l3cli-p1")
    fip = osc("floating", "ip", "create", "l3cli-ext")
    assert fip["status"] == "DOWN" and fip["port_id"] is None
    assert ipaddress.ip_address(fip["floating_ip_address"]) in ipaddress.ip_network("172.30.0.0/24")
    osc("floating", "ip", "set", "--port", "l3cli-p1", fip["id"])
    assoc = osc("floating", "ip", "show", fip["id"])
    assert assoc["port_id"] == port["id"] and assoc["router_id"] == router["id"]
    assert assoc["fixed_ip_address"] == port["fixed_ips"][0]["ip_address"]
    listed = {r["ID"]: r for r in osc("floating", "ip", "list")}
    assert listed[fip["id"]]["Port"] == port["id"]
    assert listed[fip["id"]]["Fixed IP Address"] == assoc["fixed_ip_address"]

    # the refusals on the way down, with Neutron's messages
    err = server.osc_fail("router", "unset", "--external-gateway", "l3cli-r1")
    assert "required by one or more floating IPs" in err, err
    err = server.osc_fail("router", "delete", "l3cli-r1")
    assert "still has ports" in err, err
    osc("floating", "ip", "unset", "--port", fip["id"])
    assert osc("floating", "ip", "show", fip["id"])["port_id"] is None
    err = server.osc_fail("router", "remove", "subnet", "l3cli-r1", "l3cli-sub")
    assert "required by one or more routes" in err, err
    osc("router", "unset", "--route", "destination=192.168.50.0/24,gateway=10.30.0.50", "l3cli-r1")
    osc("router", "remove", "subnet", "l3cli-r1", "l3cli-sub")
    osc("router", "unset", "--external-gateway", "l3cli-r1")
    assert osc("router", "show", "l3cli-r1")["external_gateway_info"] is None
    osc("floating", "ip", "delete", fip["id"])
    osc("router", "delete", "l3cli-r1")
    osc("port", "delete", port["id"])
    osc("subnet", "delete", sub["id"], ext_sub["id"])
    osc("network", "delete", net["id"], ext["id"])


def test_router_and_floating_ip_with_the_sdk(conn):
    net_api = conn.network
    tag = uuid.uuid4().hex[:6]
    ext = net_api.create_network(name=f"l3sdk-ext-{tag}", is_router_external=True)
    ext_sub = net_api.create_subnet(network_id=ext.id, ip_version=4, cidr="172.31.0.0/24", name=f"l3sdk-exts-{tag}")
    net = net_api.create_network(name=f"l3sdk-net-{tag}")
    sub = net_api.create_subnet(network_id=net.id, ip_version=4, cidr="10.31.0.0/24", name=f"l3sdk-sub-{tag}")
    router = net_api.create_router(name=f"l3sdk-r-{tag}")
    assert router.status == "ACTIVE"

    info = net_api.add_interface_to_router(router, subnet=sub.id)
    assert info["subnet_id"] == sub.id and info["id"] == router.id
    router = net_api.update_router(router, external_gateway_info={"network_id": ext.id})
    assert router.external_gateway_info["network_id"] == ext.id
    assert router.external_gateway_info["external_fixed_ips"][0]["subnet_id"] == ext_sub.id
    assert net_api.find_router(router.name).id == router.id

    router = net_api.add_extra_routes_to_router(
        router, body={"router": {"routes": [{"destination": "192.168.60.0/24", "nexthop": "10.31.0.60"}]}}
    )
    assert router.routes == [{"destination": "192.168.60.0/24", "nexthop": "10.31.0.60"}]

    port = net_api.create_port(network_id=net.id, name=f"l3sdk-p-{tag}")
    fip = net_api.create_ip(floating_network_id=ext.id)
    assert fip.status == "DOWN" and fip.floating_network_id == ext.id
    fip = net_api.update_ip(fip, port_id=port.id)
    assert fip.router_id == router.id and fip.fixed_ip_address == port.fixed_ips[0]["ip_address"]
    assert [f.id for f in net_api.ips(port_id=port.id)] == [fip.id]
    with pytest.raises(sdk_exc.ConflictException):
        net_api.remove_interface_from_router(router, subnet=sub.id)
    with pytest.raises(sdk_exc.ConflictException):
        net_api.delete_router(router)
    with pytest.raises(sdk_exc.BadRequestException):
        net_api.create_ip(floating_network_id=net.id)

    fip = net_api.update_ip(fip, port_id=None)
    assert fip.port_id is None and fip.router_id is None
    router = net_api.remove_extra_routes_from_router(
        router, body={"router": {"routes": [{"destination": "192.168.60.0/24", "nexthop": "10.31.0.60"}]}}
    )
    assert router.routes == []
    net_api.remove_interface_from_router(router, subnet=sub.id)
    router = net_api.update_router(router, external_gateway_info={})
    assert router.external_gateway_info is None
    net_api.delete_ip(fip)
    net_api.delete_router(router)
    assert net_api.find_router(router.id) is None
    net_api.delete_port(port)
    for s in (sub, ext_sub):
        net_api.delete_subnet(s)
    for n in (net, ext):
        net_api.delete_network(n)
