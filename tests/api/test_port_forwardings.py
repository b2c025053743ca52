"""Floating IP port forwardings through the HTTP API: CRUD, ranges, Neutron's refusals, the
floating IP's view of them (port_forwardings, router_id) and their life with the internal port."""

from __future__ import annotations

import pytest

from tests.addresses import free_hosts, held_by
from tests.api.ml2_support import ml2_server
from tests.api.test_floatingips import create as create_fip
from tests.api.test_floatingips import ZERO, err, topology

pytestmark = pytest.mark.api


def pf_url(fip_id: str, pf_id: str = "") -> str:
    return f"/v2.0/floatingips/{fip_id}/port_forwardings" + (f"/{pf_id}" if pf_id else "")


def make_pf(api, fip_id: str, port, **attrs):  # type: ignore[no-untyped-def]
    body = {
        "internal_port_id": port["id"],
        "internal_ip_address": port["fixed_ips"][0]["ip_address"],
        "protocol": "tcp",
        "internal_port": 1111,
        "external_port": 2222,
        **attrs,
    }
    return api.post(pf_url(fip_id), {"port_forwarding": body})


def free_fip(api, t):  # type: ignore[no-untyped-def]
    r = create_fip(api, floating_network_id=t["ext"]["id"])
    assert r.status_code == 201, r.text
    return r.json()["floatingip"]


def test_life_cycle(api):
    t = topology(api)
    fip = free_fip(api, t)
    r = make_pf(api, fip["id"], t["port"], description="web")
    assert r.status_code == 201, r.text
    pf = r.json()["port_forwarding"]
    ip = t["port"]["fixed_ips"][0]["ip_address"]
    assert pf == {
        "id": pf["id"], "protocol": "tcp", "internal_ip_address": ip, "internal_port_id": t["port"]["id"],
        "internal_port": 1111, "external_port": 2222, "internal_port_range": "1111:1111",
        "external_port_range": "2222:2222", "description": "web",
    }
    assert api.get(pf_url(fip["id"], pf["id"])).json()["port_forwarding"] == pf
    assert api.get(pf_url(fip["id"])).json()["port_forwardings"] == [pf]
    shown = api.get(f"/v2.0/floatingips/{fip['id']}").json()["floatingip"]
    assert shown["router_id"] == t["router"]["id"] and shown["port_id"] is None
    assert shown["port_forwardings"] == [
        {"id": pf["id"], "protocol": "tcp", "internal_ip_address": ip, "internal_port_id": t["port"]["id"],
         "internal_port": 1111, "external_port": 2222}
    ]
    r = api.put(pf_url(fip["id"], pf["id"]), {"port_forwarding": {"internal_port": 3333, "protocol": "UDP"}})
    assert r.status_code == 200, r.text
    assert r.json()["port_forwarding"]["internal_port"] == 3333 and r.json()["port_forwarding"]["protocol"] == "udp"
    busy = api.delete(f"/v2.0/floatingips/{fip['id']}")
    assert busy.status_code == 409 and err(busy) == "FipInUseByPortForwarding"
    assert api.delete(pf_url(fip["id"], pf["id"])).status_code == 204
    gone = api.get(pf_url(fip["id"], pf["id"]))
    assert gone.status_code == 404 and err(gone) == "PortForwardingNotFound"
    assert api.get(f"/v2.0/floatingips/{fip['id']}").json()["floatingip"]["router_id"] is None
    assert api.delete(f"/v2.0/floatingips/{fip['id']}").status_code == 204


def test_collisions_and_ranges(api):
    t = topology(api)
    fip = free_fip(api, t)
    other = api.port(t["net"]["id"])
    assert make_pf(api, fip["id"], t["port"]).status_code == 201
    same_external = make_pf(api, fip["id"], other, internal_port=3333)
    assert same_external.status_code == 400 and "collide" in same_external.text
    same_internal = make_pf(api, fip["id"], t["port"], external_port=5555)
    assert same_internal.status_code == 400
    assert make_pf(api, fip["id"], other, internal_port=3333, protocol="udp").status_code == 201
    ranged = make_pf(api, fip["id"], other, internal_port=None, external_port=None,
                     internal_port_range="4000:4009", external_port_range="5000:5009")
    assert ranged.status_code == 201, ranged.text
    assert ranged.json()["port_forwarding"]["external_port"] is None
    bad_relation = make_pf(api, fip["id"], other, internal_port=None, external_port=None,
                           internal_port_range="6000:6002", external_port_range="7000:7009")
    assert bad_relation.status_code == 400 and "N-N or 1-N" in bad_relation.text
    for attrs in ({"external_port": 70000}, {"internal_port": 0}, {"external_port_range": "9:8"}, {"protocol": "gre"}):
        assert make_pf(api, fip["id"], other, **attrs).status_code == 400, attrs
    listed = api.get(pf_url(fip["id"]) + "?protocol=udp").json()["port_forwardings"]
    assert [p["internal_port"] for p in listed] == [3333]


def test_refusals(api):
    t = topology(api)
    bound = create_fip(api, floating_network_id=t["ext"]["id"], port_id=t["port"]["id"]).json()["floatingip"]
    other = api.port(t["net"]["id"])
    used = make_pf(api, bound["id"], other)
    assert used.status_code == 409 and err(used) == "FloatingIPPortAlreadyAssociated"
    fip = free_fip(api, t)
    has_fip = make_pf(api, fip["id"], t["port"])
    assert has_fip.status_code == 409 and err(has_fip) == "PortHasBindingFloatingIP"
    # an address of the subnet that ``other`` (random address) does not have
    [absent] = free_hosts("10.0.0.0/24", held_by([other]), first=250)
    wrong_ip = make_pf(api, fip["id"], other, internal_ip_address=absent)
    assert wrong_ip.status_code == 400 and "not suitable" in wrong_ip.text
    assert make_pf(api, fip["id"], other).status_code == 201
    assoc = api.put(f"/v2.0/floatingips/{fip['id']}", {"floatingip": {"port_id": other["id"]}})
    assert assoc.status_code == 409 and err(assoc) == "FipInUseByPortForwarding"
    isolated = api.network()
    api.subnet(isolated["id"], "10.9.0.0/24")
    lonely = api.port(isolated["id"])
    fip2 = free_fip(api, t)
    unreachable = make_pf(api, fip2["id"], lonely)
    assert unreachable.status_code == 400 and "not reachable" in unreachable.text


def test_other_project_and_port_removal(api):
    t = topology(api)
    fip = free_fip(api, t)
    stranger = api.as_project("p-other")
    assert stranger.get(pf_url(fip["id"])).status_code == 404
    pf = make_pf(api, fip["id"], t["port"]).json()["port_forwarding"]
    assert stranger.delete(pf_url(fip["id"], pf["id"])).status_code == 404
    assert api.delete(f"/v2.0/ports/{t['port']['id']}").status_code == 204
    assert api.get(pf_url(fip["id"])).json()["port_forwardings"] == []
    assert api.get(f"/v2.0/floatingips/{fip['id']}").json()["floatingip"]["router_id"] is None


def test_port_details_and_pools(api):
    t = topology(api)
    fip = create_fip(api, floating_network_id=t["ext"]["id"], port_id=t["port"]["id"]).json()["floatingip"]
    port = t["port"]
    assert fip["port_details"] == {k: port[k] for k in (
        "name", "network_id", "mac_address", "admin_state_up", "status", "device_id", "device_owner")}
    off = api.put(f"/v2.0/floatingips/{fip['id']}", {"floatingip": {"port_id": None}}).json()["floatingip"]
    assert off["port_details"] is None and off["port_forwardings"] == []
    member = api.as_project("p-member")
    pools = member.get("/v2.0/floatingip-pools").json()["floatingip_pools"]
    assert pools == [{"subnet_id": t["ext_sub"]["id"], "subnet_name": t["ext_sub"]["name"],
                      "network_id": t["ext"]["id"], "cidr": "172.24.4.0/24",
                      "project_id": "p-member", "tenant_id": "p-member"}]
    assert member.get("/v2.0/floatingip_pools?fields=cidr").json()["floatingip_pools"] == [{"cidr": "172.24.4.0/24"}]


def test_port_update_dropping_the_address_removes_its_forwardings(api):
    t = topology(api)
    fip = free_fip(api, t)
    port = t["port"]
    first = port["fixed_ips"][0]
    grown = api.put(f"/v2.0/ports/{port['id']}", {"port": {"fixed_ips": [first, {"subnet_id": t["sub"]["id"]}]}})
    assert grown.status_code == 200, grown.text
    second = grown.json()["port"]["fixed_ips"][1]
    assert make_pf(api, fip["id"], port).status_code == 201
    kept = make_pf(api, fip["id"], port, internal_ip_address=second["ip_address"], external_port=2223)
    assert kept.status_code == 201, kept.text
    moved = api.put(f"/v2.0/ports/{port['id']}", {"port": {"fixed_ips": [second]}})
    assert moved.status_code == 200, moved.text
    left = api.get(pf_url(fip["id"])).json()["port_forwardings"]
    assert [p["internal_ip_address"] for p in left] == [second["ip_address"]]
    assert api.get(f"/v2.0/floatingips/{fip['id']}").json()["floatingip"]["router_id"] == t["router"]["id"]


def test_update_ranges_and_port(api):
    t = topology(api)
    fip = free_fip(api, t)
    other = api.port(t["net"]["id"])
    pf = make_pf(api, fip["id"], t["port"], internal_port=None, external_port=None,
                 internal_port_range="4000:4009", external_port_range="5000:5009").json()["port_forwarding"]
    described = api.put(pf_url(fip["id"], pf["id"]), {"port_forwarding": {"description": "d"}})
    assert described.status_code == 200, described.text
    assert described.json()["port_forwarding"]["external_port_range"] == "5000:5009"
    narrowed = api.put(pf_url(fip["id"], pf["id"]), {"port_forwarding": {"external_port": 5000}})
    assert narrowed.status_code == 400 and "N-N or 1-N" in narrowed.text
    single = api.put(pf_url(fip["id"], pf["id"]), {"port_forwarding": {"external_port": 5000, "internal_port": 80}})
    assert single.status_code == 200, single.text
    assert single.json()["port_forwarding"]["internal_port_range"] == "80:80"
    moved = api.put(pf_url(fip["id"], pf["id"]), {"port_forwarding": {
        "internal_port_id": other["id"], "internal_ip_address": other["fixed_ips"][0]["ip_address"]}})
    assert moved.status_code == 200, moved.text
    assert moved.json()["port_forwarding"]["internal_port_id"] == other["id"]
    [absent] = free_hosts("10.0.0.0/24", held_by([other]), first=250)  # not other's (random) address
    stray = api.put(pf_url(fip["id"], pf["id"]), {"port_forwarding": {"internal_ip_address": absent}})
    assert stray.status_code == 400 and "does not correspond" in stray.text


def test_plugin_on_by_default_and_optional(tmp_path, database_url):
    def aliases(api):  # type: ignore[no-untyped-def]
        return {e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}

    with ml2_server(tmp_path / "a", database_url) as (api, _state):
        assert {"floating-ip-port-forwarding", "expose-port-forwarding-in-fip", "fip-port-details",
                "floatingip-pools"} <= aliases(api)  # fmt: skip
        assert "port_forwardings" in {r["collection"] for r in api.get("/v2.0/").json()["resources"]}
    with ml2_server(tmp_path / "b", database_url, service_plugins=["router"]) as (api, _state):
        assert "floating-ip-port-forwarding" not in aliases(api) and "fip-port-details" in aliases(api)
        assert api.get(f"/v2.0/floatingips/{ZERO}/port_forwardings").status_code == 404
