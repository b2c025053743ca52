"""Hostile input gets a clean 400 (never a 500) and the same answer on SQLite and PostgreSQL:
NUL characters anywhere in a request, strings longer than their column, huge ``limit=``."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.api

LONG = "x" * 300


def _status(r):  # type: ignore[no-untyped-def]
    return r.status_code


def test_nul_refused_everywhere(api):
    net = api.network()
    assert _status(api.post("/v2.0/networks", {"network": {"name": "a\x00b"}})) == 400
    assert _status(api.post("/v2.0/networks", {"networks": [{"name": "ok"}, {"description": "\x00"}]})) == 400
    assert _status(api.put(f"/v2.0/networks/{net['id']}", {"network": {"name": "\x00"}})) == 400
    assert _status(api.put(f"/v2.0/networks/{net['id']}/tags", {"tags": ["a\x00"]})) == 400
    assert _status(api.put(f"/v2.0/networks/{net['id']}/tags/a%00b")) == 400
    r = api.post("/v2.0/security-groups", {"security_group": {"name": "g", "description": "d\x00"}})
    assert _status(r) == 400
    r = api.get("/v2.0/networks", params={"name": "a\x00"})
    assert _status(r) == 400 and r.json()["NeutronError"]["type"] == "HTTPBadRequest"
    assert _status(api.get("/v2.0/networks", params={"limit": 1, "marker": "\x00"})) == 400
    assert _status(api.get("/v2.0/networks/abc%00def")) == 400
    assert _status(api.delete("/v2.0/ports/abc%00def")) == 400
    r = api.post("/identity/v3/auth/tokens", {"auth": {"identity": {"methods": ["password"], "password": {
        "user": {"name": "admin\x00", "domain": {"id": "default"}, "password": "x"}}}}})
    assert _status(r) == 400 and "error" in r.json()
    assert [n["name"] for n in api.get("/v2.0/networks").json()["networks"]] == ["n"]


@pytest.mark.parametrize(
    ("path", "key", "body"),
    [
        ("/v2.0/networks", "network", {"name": LONG}),
        ("/v2.0/networks", "network", {"description": LONG}),
        ("/v2.0/security-groups", "security_group", {"name": LONG}),
    ],
)
def test_long_strings_refused_on_create(api, path, key, body):
    assert _status(api.post(path, {key: body})) == 400


def test_long_strings_in_port_attributes(api):
    net = api.network()
    api.subnet(net["id"])
    for attrs in (
        {"name": LONG},
        {"device_id": LONG},
        {"device_owner": LONG},
        {"binding:host_id": LONG},
        {"mac_address": LONG},
        {"allowed_address_pairs": [{"ip_address": "10.0.0.9", "mac_address": LONG}]},
        {"allowed_address_pairs": [{"ip_address": LONG}]},
        {"extra_dhcp_opts": [{"opt_name": LONG, "opt_value": "1"}]},
        {"extra_dhcp_opts": [{"opt_name": "mtu", "opt_value": LONG}]},
        {"fixed_ips": [{"ip_address": LONG}]},
    ):
        r = api.post("/v2.0/ports", {"port": {"network_id": net["id"], **attrs}})
        assert _status(r) == 400, (attrs, r.text)
    sg = api.post("/v2.0/security-groups", {"security_group": {"name": "g"}}).json()["security_group"]
    for attrs in ({"protocol": LONG}, {"remote_ip_prefix": LONG}, {"ethertype": LONG}, {"remote_group_id": LONG}):
        rule = {"security_group_id": sg["id"], "direction": "ingress", **attrs}
        r = api.post("/v2.0/security-group-rules", {"security_group_rule": rule})
        assert _status(r) in (400, 404), (attrs, r.text)
    assert api.get("/v2.0/ports", params={"network_id": net["id"]}).json()["ports"] == []


def test_long_strings_in_filters_and_ids(api):
    api.network()
    assert api.get("/v2.0/networks", params={"name": LONG}).json()["networks"] == []
    assert _status(api.get("/v2.0/networks", params={"id": LONG})) == 200
    assert _status(api.get(f"/v2.0/networks/{LONG}")) == 404
    assert _status(api.get("/v2.0/networks", params={"limit": 1, "marker": LONG})) in (200, 400)
    assert _status(api.get("/v2.0/ports", params={"mac_address": LONG})) in (200, 400)
    assert _status(api.get("/v2.0/ports", params={"fixed_ips": f"ip_address={LONG}"})) in (200, 400)


@pytest.mark.parametrize("limit", ["2147483648", "9223372036854775808", "1" + "0" * 40])
def test_huge_limit_never_a_server_error(api, limit):
    api.network()
    r = api.get("/v2.0/networks", params={"limit": limit})
    assert r.status_code == 200, r.text  # capped: one page holds everything
    assert len(r.json()["networks"]) == 1
    assert [link["rel"] for link in r.json()["networks_links"]] == ["previous"]
