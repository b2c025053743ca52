"""Subnet pools through the HTTP API: CRUD, policy, prefix changes, allocation of subnets."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.api

POOLS = "/v2.0/subnetpools"


def _pool(api, prefixes=("10.11.12.0/24",), expect=201, **attrs):  # type: ignore[no-untyped-def]
    r = api.post(POOLS, {"subnetpool": {"name": "sp", "prefixes": list(prefixes), **attrs}})
    assert r.status_code == expect, r.text
    return r.json()["subnetpool"] if expect == 201 else r.json()["NeutronError"]


def _subnet(api, net_id, expect=201, ip_version=4, **attrs):  # type: ignore[no-untyped-def]
    r = api.post("/v2.0/subnets", {"subnet": {"network_id": net_id, "ip_version": ip_version, **attrs}})
    assert r.status_code == expect, r.text
    return r.json()["subnet"] if expect == 201 else r.json()["NeutronError"]


def test_create_show_defaults(api):
    sp = _pool(api, ["10.11.12.13/24", "10.11.13.0/24"], min_prefixlen="29", description="d1")
    assert sp["prefixes"] == ["10.11.12.0/23"] and sp["ip_version"] == 4
    assert (sp["min_prefixlen"], sp["default_prefixlen"], sp["max_prefixlen"]) == ("29", "29", "32")
    assert sp["shared"] is False and sp["is_default"] is False and sp["default_quota"] is None
    assert sp["address_scope_id"] is None and sp["description"] == "d1" and sp["revision_number"] == 0
    assert sp["project_id"] == sp["tenant_id"] == "p-admin" and sp["tags"] == []
    shown = api.get(f"{POOLS}/{sp['id']}").json()["subnetpool"]
    assert shown == sp
    v6 = _pool(api, ["2001:db8:3::/48"])
    assert (v6["ip_version"], v6["min_prefixlen"], v6["max_prefixlen"]) == (6, "64", "128")


@pytest.mark.parametrize(
    ("attrs", "type_"),
    [
        ({"prefixes": []}, "EmptySubnetPoolPrefixList"),
        ({"prefixes": ["10.0.0.0/8", "2001:db8::/32"]}, "PrefixVersionMismatch"),
        ({"prefixes": ["10.0.0.0/8"], "min_prefixlen": 25, "max_prefixlen": 24}, "IllegalSubnetPoolPrefixBounds"),
        ({"prefixes": ["10.0.0.0/8", "10.0.0.0/8"]}, "HTTPBadRequest"),
        ({"prefixes": ["10.0.0.0/8"], "name": ""}, "HTTPBadRequest"),
        ({"prefixes": ["10.0.0.0/8"], "address_scope_id": "foo-addr-scope"}, "HTTPBadRequest"),
    ],
)
def test_bad_pools(api, attrs, type_):
    r = api.post(POOLS, {"subnetpool": {"name": "sp", **attrs}})
    assert r.status_code == 400, r.text
    assert r.json()["NeutronError"]["type"] == type_


def test_policy_shared_default_and_visibility(api):
    member = api.as_project("p1")
    assert _pool(member, shared=True, expect=403)["type"] == "PolicyNotAuthorized"
    assert _pool(member, is_default=True, expect=403)["type"] == "PolicyNotAuthorized"
    private = _pool(api)
    shared = _pool(api, ["10.20.0.0/16"], shared=True)
    assert member.get(f"{POOLS}/{private['id']}").status_code == 404
    assert member.get(f"{POOLS}/{shared['id']}").json()["subnetpool"]["shared"] is True
    listed = {p["id"] for p in member.get(POOLS).json()["subnetpools"]}
    assert shared["id"] in listed and private["id"] not in listed
    # visible is not writable
    assert member.put(f"{POOLS}/{shared['id']}", {"subnetpool": {"name": "x"}}).status_code == 403
    # shared is set at creation only; project_id never changes
    assert api.put(f"{POOLS}/{private['id']}", {"subnetpool": {"shared": True}}).status_code == 400
    assert api.put(f"{POOLS}/{private['id']}", {"subnetpool": {"project_id": "p2"}}).status_code == 400


def test_one_default_per_ip_version(api):
    _pool(api, is_default=True)
    err = _pool(api, ["10.99.0.0/16"], is_default=True, expect=400)
    assert err["type"] == "InvalidInput" and "Only one default may exist per IP family" in err["message"]
    _pool(api, ["2001:db8::/32"], is_default=True)
    defaults = api.get(f"{POOLS}?is_default=true").json()["subnetpools"]
    assert sorted(p["ip_version"] for p in defaults) == [4, 6]


def test_update_grows_never_shrinks(api):
    sp = _pool(api, min_prefixlen=29)
    url = f"{POOLS}/{sp['id']}"
    r = api.put(url, {"subnetpool": {"prefixes": ["10.11.12.0/24", "10.11.15.0/24"], "name": "n2",
                                     "min_prefixlen": "28", "max_prefixlen": "30"}})
    assert r.status_code == 200, r.text
    body = r.json()["subnetpool"]
    assert body["prefixes"] == ["10.11.12.0/24", "10.11.15.0/24"] and body["name"] == "n2"
    assert (body["min_prefixlen"], body["default_prefixlen"], body["max_prefixlen"]) == ("28", "29", "30")
    assert body["revision_number"] == 1
    assert api.put(url, {"subnetpool": {"prefixes": ["10.11.0.0/16"]}}).json()["subnetpool"]["prefixes"] == [
        "10.11.0.0/16"]
    r = api.put(url, {"subnetpool": {"prefixes": ["10.11.12.0/26"]}})
    assert r.status_code == 400 and r.json()["NeutronError"]["type"] == "IllegalSubnetPoolPrefixUpdate"


def test_prefix_ops(api):
    sp = _pool(api, ["192.168.1.0/24", "10.10.10.0/24"], min_prefixlen=16)
    url = f"{POOLS}/{sp['id']}"
    r = api.put(f"{url}/add_prefixes", {"prefixes": ["192.168.2.0/24"]})
    assert r.status_code == 200 and r.json() == {"prefixes": ["10.10.10.0/24", "192.168.1.0/24", "192.168.2.0/24"]}
    r = api.put(f"{url}/remove_prefixes", {"prefixes": ["192.168.2.0/24"]})
    assert r.json() == {"prefixes": ["10.10.10.0/24", "192.168.1.0/24"]}
    assert api.put(f"{url}/add_prefixes", {"prefixes": []}).status_code == 400
    assert api.put(f"{url}/add_prefixes", {"prefixes": ["2001:db8::/64"]}).status_code == 400
    net = api.network()
    _subnet(api, net["id"], subnetpool_id=sp["id"], cidr="10.10.10.0/28")
    r = api.put(f"{url}/remove_prefixes", {"prefixes": ["10.10.10.0/24"]})
    assert r.status_code == 400 and r.json()["NeutronError"]["type"] == "IllegalSubnetPoolPrefixUpdate"


def test_subnets_from_a_pool(api):
    sp = _pool(api, min_prefixlen="28", max_prefixlen="30", default_prefixlen="29")
    net = api.network()
    a = _subnet(api, net["id"], subnetpool_id=sp["id"])
    assert a["cidr"] == "10.11.12.0/29" and a["subnetpool_id"] == sp["id"] and a["gateway_ip"] == "10.11.12.1"
    b = _subnet(api, api.network()["id"], subnetpool_id=sp["id"], prefixlen=30, gateway_ip=None)
    assert b["cidr"] == "10.11.12.8/30" and b["gateway_ip"] is None
    c = _subnet(api, api.network()["id"], subnetpool_id=sp["id"], cidr="10.11.12.32/28")
    assert c["cidr"] == "10.11.12.32/28"
    listed = api.get(f"/v2.0/subnets?subnetpool_id={sp['id']}").json()["subnets"]
    assert {s["id"] for s in listed} == {a["id"], b["id"], c["id"]}
    # errors, in Neutron's types and codes
    other = api.network()["id"]
    assert _subnet(api, other, expect=500, subnetpool_id=sp["id"], cidr="10.11.12.32/28")["type"] == (
        "SubnetAllocationError")
    assert _subnet(api, other, expect=400, subnetpool_id=sp["id"], prefixlen=31)["type"] == (
        "MaxPrefixSubnetAllocationError")
    assert _subnet(api, other, expect=400, subnetpool_id=sp["id"], cidr="10.11.12.0/24")["type"] == (
        "MinPrefixSubnetAllocationError")
    assert _subnet(api, other, expect=400, subnetpool_id=sp["id"], cidr="10.11.12.64/28", prefixlen=28)[
        "type"] == "BadRequest"
    assert _subnet(api, other, expect=400, subnetpool_id=sp["id"], ip_version=6)["type"] == "BadRequest"
    assert _subnet(api, other, expect=400)["message"] == (
        "Bad subnets request: a subnetpool must be specified in the absence of a cidr.")
    r = api.delete(f"{POOLS}/{sp['id']}")
    assert r.status_code == 400 and r.json()["NeutronError"]["type"] == "SubnetPoolDeleteError"
    for s in (a, b, c):
        assert api.delete(f"/v2.0/subnets/{s['id']}").status_code == 204
    # freed space is allocated again
    assert _subnet(api, other, subnetpool_id=sp["id"])["cidr"] == "10.11.12.0/29"


def test_pool_quota_counts_addresses(api):
    sp = _pool(api, min_prefixlen=28, max_prefixlen=30, default_quota=4)
    _subnet(api, api.network()["id"], subnetpool_id=sp["id"], prefixlen=30)
    err = _subnet(api, api.network()["id"], expect=409, subnetpool_id=sp["id"], prefixlen=30)
    assert err["type"] == "SubnetPoolQuotaExceeded"


def test_one_pool_per_network_and_version(api):
    net = api.network()
    pool = _pool(api, ["192.168.0.0/16"])
    api.subnet(net["id"], "10.10.10.0/24", gateway_ip=None)
    err = _subnet(api, net["id"], expect=400, subnetpool_id=pool["id"], prefixlen=24)
    assert err["type"] == "NetworkSubnetPoolAffinityError"
    # dual stack: an IPv6 subnet from another pool is fine
    v6 = _pool(api, ["2001:db8:3::/48"])
    assert _subnet(api, net["id"], ip_version=6, subnetpool_id=v6["id"])["cidr"] == "2001:db8:3::/64"


def test_default_subnetpool(api):
    net = api.network()
    assert _subnet(api, net["id"], expect=400, use_default_subnetpool=True)["message"].endswith(
        "No default subnetpool found for IPv4.")
    sp = _pool(api, ["172.30.0.0/16"], is_default=True, shared=True, default_prefixlen=24)
    member = api.as_project("p1")
    mine = member.network()
    s = _subnet(member, mine["id"], use_default_subnetpool=True)
    assert s["cidr"] == "172.30.0.0/24" and s["subnetpool_id"] == sp["id"]
    assert _subnet(member, mine["id"], expect=400, use_default_subnetpool=True, subnetpool_id=sp["id"])[
        "type"] == "BadRequest"


def test_others_private_pool_is_not_found_for_subnets(api):
    sp = _pool(api)
    member = api.as_project("p1")
    err = _subnet(member, member.network()["id"], expect=404, subnetpool_id=sp["id"])
    assert err["type"] == "SubnetPoolNotFound"


def test_tags_and_quota_usage(api):
    sp = _pool(api)
    assert api.put(f"{POOLS}/{sp['id']}/tags/red").status_code == 201
    assert api.get(f"{POOLS}?tags=red").json()["subnetpools"][0]["id"] == sp["id"]
    assert api.get(f"{POOLS}/{sp['id']}").json()["subnetpool"]["revision_number"] == 1
    used = api.get("/v2.0/quotas/p-admin/details").json()["quota"]["subnetpool"]
    assert used["used"] == 1


def test_parallel_allocations_get_distinct_prefixes(tmp_path, database_url):
    """Concurrent subnet creates from one pool (worker threads, SQLite and PostgreSQL): the
    locked pool row makes them take turns, so no two get the same prefix."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from neutrino.db.engine import run_in_transaction
    from neutrino.domain.context import Context
    from neutrino.domain.services import networks, subnet_pools, subnets
    from neutrino.server import build
    from tests.conftest import make_settings

    built = build(make_settings(tmp_path, database_url=database_url), write_files=False)
    state, ctx = built.state, Context.admin("p")
    try:
        pool = run_in_transaction(state.sessions, lambda s: subnet_pools.create(
            s, ctx, state.domain, {"project_id": "p", "name": "sp", "prefixes": ["10.0.0.0/24"],
                                   "default_prefixlen": 28}).id)
        nets = [run_in_transaction(state.sessions, lambda s: networks.create(
            s, ctx, state.domain, {"project_id": "p"}).id) for _ in range(6)]
        barrier = threading.Barrier(6)

        def one(i: int) -> str:
            body = {"project_id": "p", "network_id": nets[i], "ip_version": 4, "subnetpool_id": pool}
            barrier.wait()
            return str(run_in_transaction(state.sessions, lambda s: subnets.create(s, ctx, state.domain, body).cidr))

        with ThreadPoolExecutor(6) as workers:
            cidrs = list(workers.map(one, range(6)))
        assert len(set(cidrs)) == 6 and all(c.endswith("/28") for c in cidrs)
    finally:
        state.close()
