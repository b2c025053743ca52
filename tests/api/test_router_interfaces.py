"""Router interfaces through the HTTP API: by subnet and by port, IPv6 prefixes on one port,
the refusals (and that they leave nothing behind), removal, and the router's in-use rules."""

from __future__ import annotations

import pytest

from tests.addresses import free_hosts, held_by
from tests.api.l3_support import add_if, err, ext_net, make_router, remove_if, router_ports, show

pytestmark = pytest.mark.api


def test_interface_by_subnet(api):
    net = api.network()
    sub = api.subnet(net["id"], "10.0.0.0/24")
    r = make_router(api)
    res = add_if(api, r["id"], subnet_id=sub["id"])
    assert res.status_code == 200, res.text
    info = res.json()
    assert set(info) == {"id", "project_id", "tenant_id", "port_id", "network_id", "subnet_id", "subnet_ids"}
    assert info["id"] == r["id"] and info["network_id"] == net["id"]
    assert info["subnet_id"] == sub["id"] and info["subnet_ids"] == [sub["id"]]
    assert info["project_id"] == "p-admin"
    port = api.get(f"/v2.0/ports/{info['port_id']}").json()["port"]
    assert port["device_owner"] == "network:router_interface" and port["device_id"] == r["id"]
    assert port["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": "10.0.0.1"}]
    assert show(api, r["id"])["revision_number"] == 1
    dup = add_if(api, r["id"], subnet_id=sub["id"])
    assert dup.status_code == 400 and f"Router already has a port on subnet {sub['id']}" in dup.text
    other = api.network()
    overlap = api.subnet(other["id"], "10.0.0.0/25")
    clash = add_if(api, r["id"], subnet_id=overlap["id"])
    assert clash.status_code == 400 and "overlaps with cidr 10.0.0.0/24" in clash.text
    removed = remove_if(api, r["id"], subnet_id=sub["id"])
    assert removed.status_code == 200 and removed.json()["port_id"] == info["port_id"]
    assert api.get(f"/v2.0/ports/{info['port_id']}").status_code == 404
    assert show(api, r["id"])["revision_number"] == 2  # refused adds change nothing


def test_interface_request_errors_leave_nothing(api):
    net = api.network()
    sub = api.subnet(net["id"], "10.0.0.0/24")
    nogw = api.subnet(api.network()["id"], "10.1.0.0/24", gateway_ip=None)
    r = make_router(api)
    for body in ({}, {"subnet_id": sub["id"], "port_id": sub["id"]}, {"subnet_id": "x"}):
        res = add_if(api, r["id"], **body)
        assert res.status_code == 400 and err(res) == "BadRequest", body
    res = api.put(f"/v2.0/routers/{r['id']}/add_router_interface", ["x"])
    assert res.status_code == 400
    res = add_if(api, r["id"], subnet_id=nogw["id"])
    assert res.status_code == 400 and "must have a gateway IP" in res.text
    # the gateway address is taken: the allocation fails and no router port remains
    api.port(net["id"], fixed_ips=[{"ip_address": "10.0.0.1"}])
    res = add_if(api, r["id"], subnet_id=sub["id"])
    assert res.status_code == 409 and err(res) == "IpAddressAlreadyAllocated"
    assert router_ports(api, r["id"]) == [] and show(api, r["id"])["revision_number"] == 0
    res = add_if(api, "00000000-0000-0000-0000-000000000000", subnet_id=sub["id"])
    assert res.status_code == 404 and err(res) == "RouterNotFound"
    res = add_if(api, r["id"], subnet_id="00000000-0000-0000-0000-000000000000")
    assert res.status_code == 404 and err(res) == "SubnetNotFound"


def test_interface_by_port(api):
    net = api.network()
    sub = api.subnet(net["id"], "10.0.0.0/24")
    r = make_router(api)
    busy = api.port(net["id"], device_id="vm-1")
    res = add_if(api, r["id"], port_id=busy["id"])
    assert res.status_code == 409 and err(res) == "PortInUse"
    bare = api.port(net["id"], fixed_ips=[])
    res = add_if(api, r["id"], port_id=bare["id"])
    assert res.status_code == 400 and "at least one fixed IP" in res.text
    net2 = api.network()
    s_a = api.subnet(net2["id"], "10.2.0.0/24")
    s_b = api.subnet(net2["id"], "10.3.0.0/24")
    two = api.port(net2["id"], fixed_ips=[{"subnet_id": s_a["id"]}, {"subnet_id": s_b["id"]}])
    res = add_if(api, r["id"], port_id=two["id"])
    assert res.status_code == 400 and "multiple IPv4 subnets" in res.text
    assert api.get(f"/v2.0/ports/{two['id']}").json()["port"]["device_owner"] == ""
    [fixed] = free_hosts("10.0.0.0/24", held_by([busy]), first=10)  # busy's address is random
    p = api.port(net["id"], fixed_ips=[{"ip_address": fixed}])
    res = add_if(api, r["id"], port_id=p["id"])
    assert res.status_code == 200, res.text
    assert res.json()["port_id"] == p["id"] and res.json()["subnet_ids"] == [sub["id"]]
    port = api.get(f"/v2.0/ports/{p['id']}").json()["port"]
    assert port["device_owner"] == "network:router_interface" and port["device_id"] == r["id"]
    assert port["revision_number"] == 1
    wrong = remove_if(api, r["id"], port_id=p["id"], subnet_id=s_a["id"])
    assert wrong.status_code == 400 and err(wrong) == "SubnetMismatchForPort"
    notif = remove_if(api, r["id"], port_id=busy["id"])
    assert notif.status_code == 404 and err(notif) == "RouterInterfaceNotFound"
    nosub = remove_if(api, r["id"], subnet_id=s_a["id"])
    assert nosub.status_code == 404 and err(nosub) == "RouterInterfaceNotFoundForSubnet"
    ok = remove_if(api, r["id"], port_id=p["id"], subnet_id=sub["id"])
    assert ok.status_code == 200 and ok.json()["subnet_ids"] == [sub["id"]]
    assert api.get(f"/v2.0/ports/{p['id']}").status_code == 404


def test_ipv6_subnets_share_one_port(api):
    net = api.network()
    v6a = api.subnet(net["id"], "2001:db8:1::/64")
    v6b = api.subnet(net["id"], "2001:db8:2::/64")
    ra_only = api.subnet(net["id"], "2001:db8:3::/64", ipv6_address_mode="slaac")
    r = make_router(api)
    first = add_if(api, r["id"], subnet_id=v6a["id"]).json()
    second = add_if(api, r["id"], subnet_id=v6b["id"])
    assert second.status_code == 200 and second.json()["port_id"] == first["port_id"]
    port = api.get(f"/v2.0/ports/{first['port_id']}").json()["port"]
    assert sorted(f["ip_address"] for f in port["fixed_ips"]) == ["2001:db8:1::1", "2001:db8:2::1"]
    res = add_if(api, r["id"], subnet_id=ra_only["id"])
    assert res.status_code == 400 and "receive RAs from an external router" in res.text
    assert remove_if(api, r["id"], subnet_id=v6a["id"]).status_code == 200
    port = api.get(f"/v2.0/ports/{first['port_id']}").json()["port"]
    assert [f["subnet_id"] for f in port["fixed_ips"]] == [v6b["id"]]
    assert remove_if(api, r["id"], subnet_id=v6b["id"]).status_code == 200
    assert api.get(f"/v2.0/ports/{first['port_id']}").status_code == 404


def test_router_in_use_and_port_guard(api):
    net, _ = ext_net(api)
    internal = api.network()
    sub = api.subnet(internal["id"], "10.0.0.0/24")
    r = make_router(api, external_gateway_info={"network_id": net["id"]})
    info = add_if(api, r["id"], subnet_id=sub["id"]).json()
    busy = api.delete(f"/v2.0/routers/{r['id']}")
    assert busy.status_code == 409 and err(busy) == "RouterInUse"
    assert busy.json()["NeutronError"]["message"] == f"Router {r['id']} still has ports"
    guarded = api.delete(f"/v2.0/ports/{info['port_id']}")
    assert guarded.status_code == 409 and err(guarded) == "ServicePortInUse"
    assert guarded.json()["NeutronError"]["message"] == (
        f"Port {info['port_id']} cannot be deleted directly via the port API: "
        "has device owner network:router_interface."
    )
    gw_port = [p for p in router_ports(api, r["id"]) if p["device_owner"] == "network:router_gateway"][0]
    assert api.delete(f"/v2.0/ports/{gw_port['id']}").status_code == 409
    net_busy = api.delete(f"/v2.0/networks/{internal['id']}")
    assert net_busy.status_code == 409
    sub_busy = api.delete(f"/v2.0/subnets/{sub['id']}")
    assert sub_busy.status_code == 409
    assert remove_if(api, r["id"], port_id=info["port_id"]).status_code == 200
    assert api.delete(f"/v2.0/routers/{r['id']}").status_code == 204
    assert api.get(f"/v2.0/ports?network_id={net['id']}").json()["ports"] == []
    assert api.delete(f"/v2.0/networks/{internal['id']}").status_code == 204


def test_gateway_held_by_interface_is_pinned(api):
    """While a router interface holds the subnet's gateway address, changing or removing
    gateway_ip is GatewayIpInUse (409), as in Neutron; without one it may change."""
    net = api.network()
    pool = [{"start": "10.0.0.100", "end": "10.0.0.104"}]
    sub = api.subnet(net["id"], "10.0.0.0/24", allocation_pools=pool)
    moved = api.put(f"/v2.0/subnets/{sub['id']}", {"subnet": {"gateway_ip": "10.0.0.2"}})
    assert moved.status_code == 200, moved.text
    r = make_router(api)
    info = add_if(api, r["id"], subnet_id=sub["id"]).json()
    for gateway in ("10.0.0.3", None):
        res = api.put(f"/v2.0/subnets/{sub['id']}", {"subnet": {"gateway_ip": gateway}})
        assert res.status_code == 409, res.text
        body = res.json()["NeutronError"]
        assert body["type"] == "GatewayIpInUse" and info["port_id"] in body["message"]
    assert api.get(f"/v2.0/subnets/{sub['id']}").json()["subnet"]["gateway_ip"] == "10.0.0.2"
    same = api.put(f"/v2.0/subnets/{sub['id']}", {"subnet": {"gateway_ip": "10.0.0.2", "name": "x"}})
    assert same.status_code == 200, same.text
    remove_if(api, r["id"], subnet_id=sub["id"])
    freed = api.put(f"/v2.0/subnets/{sub['id']}", {"subnet": {"gateway_ip": "10.0.0.3"}})
    assert freed.status_code == 200, freed.text
