"""``net-mtu-writable``: a network's MTU set on create or update, never above what its
segment carries, never below what its subnets need (Neutron's ML2 rules and messages)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.api

NETS = "/v2.0/networks"


def _err(r):  # type: ignore[no-untyped-def]
    return r.status_code, r.json()["NeutronError"]["type"]


def _mtu(api, net_id, value):  # type: ignore[no-untyped-def]
    return api.put(f"{NETS}/{net_id}", {"network": {"mtu": value}})


def test_mtu_is_writable_within_the_segment(api):
    aliases = {e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}
    assert "net-mtu-writable" in aliases
    net = api.network()
    largest = net["mtu"]
    assert largest > 1280
    r = _mtu(api, net["id"], largest - 100)
    assert r.status_code == 200, r.text
    assert r.json()["network"]["mtu"] == largest - 100
    assert r.json()["network"]["revision_number"] == net["revision_number"] + 1
    assert api.get(f"{NETS}/{net['id']}").json()["network"]["mtu"] == largest - 100
    r = _mtu(api, net["id"], largest + 1)
    assert _err(r) == (400, "InvalidInput")
    assert r.json()["NeutronError"]["message"] == (
        f"Invalid input for operation: Requested MTU is too big, maximum is {largest}."
    )
    assert _err(_mtu(api, net["id"], -1)) == (400, "HTTPBadRequest")
    assert _err(_mtu(api, net["id"], "big")) == (400, "InvalidInput")
    assert _mtu(api, net["id"], 0).json()["network"]["mtu"] == largest  # 0: the largest again
    assert api.network(mtu=1300)["mtu"] == 1300
    r = api.post(NETS, {"network": {"name": "x", "mtu": largest + 1}})
    assert _err(r) == (400, "InvalidInput")
    assert [n for n in api.get(NETS).json()["networks"] if n["name"] == "x"] == []


def test_mtu_and_subnets(api):
    small = api.network(mtu=1000)
    api.subnet(small["id"], "10.0.0.0/24")
    r = api.post("/v2.0/subnets", {"subnet": {"network_id": small["id"], "cidr": "2001:db8::/64", "ip_version": 6}})
    assert _err(r) == (409, "NetworkMTUSubnetConflict")
    assert _err(_mtu(api, small["id"], 60)) == (409, "NetworkMTUSubnetConflict")
    dual = api.network()
    api.subnet(dual["id"], "2001:db8:1::/64")
    r = _mtu(api, dual["id"], 1200)
    assert _err(r) == (409, "NetworkMTUSubnetConflict")
    assert r.json()["NeutronError"]["message"] == (
        f"MTU of {dual['id']} is not valid, subnet requires a minimum of 1280"
    )
    assert _mtu(api, dual["id"], 1280).status_code == 200
