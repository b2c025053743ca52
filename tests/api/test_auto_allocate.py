"""Get-me-a-network through the HTTP API: is_default on external networks, the dry run, the
refusals without a default network or subnet pool, and a whole topology built and removed."""

from __future__ import annotations

import pytest

from neutrino.domain.services import auto_allocate
from tests.api.test_floatingips import err

pytestmark = pytest.mark.api

URL = "/v2.0/auto-allocated-topology"


def test_is_default(api):
    ext = api.network(**{"router:external": True, "is_default": True})
    assert ext["is_default"] is True
    internal = api.network(is_default=True)
    assert "is_default" not in internal  # only external networks carry it
    second = api.post("/v2.0/networks", {"network": {"router:external": True, "is_default": True}})
    assert second.status_code == 409 and err(second) == "DefaultExternalNetworkExists"
    other = api.network(**{"router:external": True})
    assert other["is_default"] is False
    assert [n["id"] for n in api.get("/v2.0/networks?is_default=true").json()["networks"]] == [ext["id"]]
    kept = api.put(f"/v2.0/networks/{ext['id']}", {"network": {"description": "gman"}}).json()["network"]
    assert kept["is_default"] is True
    member = api.as_project("p-member")
    mine = member.network()
    denied = member.put(f"/v2.0/networks/{mine['id']}", {"network": {"is_default": True}})
    assert denied.status_code == 403
    assert api.put(f"/v2.0/networks/{ext['id']}", {"network": {"is_default": False}}).json()["network"]["is_default"] is False
    assert api.put(f"/v2.0/networks/{other['id']}", {"network": {"is_default": True}}).status_code == 200


def test_refusals_without_defaults(api):
    member = api.as_project("p-member")
    r = member.get(f"{URL}/p-member")
    assert r.status_code == 409 and err(r) == "AutoAllocationFailure"
    assert r.json()["NeutronError"]["message"] == "Deployment error: No default router:external network."
    ext = api.network(**{"router:external": True, "is_default": True})
    api.subnet(ext["id"], "172.24.4.0/24")
    dry = member.get(f"{URL}/p-member?fields=dry-run")
    assert dry.status_code == 409 and "No default subnetpools defined" in dry.text
    r = member.get(f"{URL}/p-member")
    assert r.status_code == 409 and "Unable to provide project private network" in r.text
    names = [n["name"] for n in api.get("/v2.0/networks").json()["networks"]]
    assert auto_allocate.NETWORK_NAME not in names  # the failed build left nothing behind
    assert member.get(f"{URL}/p-other").status_code == 403
    assert member.get(f"{URL}/p-member?fields=id").status_code == 400
    assert member.delete(f"{URL}/p-member").status_code == 204


def test_topology_built_once_and_deleted(api, monkeypatch):
    monkeypatch.setattr(
        auto_allocate, "default_subnet_requests",
        lambda session, ctx: [
            {"name": "auto_allocated_subnet_v4", "ip_version": 4, "cidr": "10.128.0.0/24"}
        ],
    )
    ext = api.network(**{"router:external": True, "is_default": True})
    api.subnet(ext["id"], "172.24.4.0/24")
    member = api.as_project("p-member")
    dry = member.get(f"{URL}/None?fields=dry-run").json()["auto_allocated_topology"]
    assert dry["id"] == "dry-run=pass" and dry["project_id"] == "p-member"
    topo = member.get(f"{URL}/p-member").json()["auto_allocated_topology"]
    assert topo["project_id"] == "p-member"
    assert member.get(f"{URL}/None").json()["auto_allocated_topology"]["id"] == topo["id"]
    net = member.get(f"/v2.0/networks/{topo['id']}").json()["network"]
    assert net["name"] == "auto_allocated_network" and net["admin_state_up"] is True
    [subnet] = member.get(f"/v2.0/subnets?network_id={net['id']}").json()["subnets"]
    assert subnet["name"] == "auto_allocated_subnet_v4"
    [router] = member.get("/v2.0/routers?name=auto_allocated_router").json()["routers"]
    assert router["external_gateway_info"]["network_id"] == ext["id"]
    ports = member.get(f"/v2.0/ports?device_id={router['id']}&network_id={net['id']}").json()["ports"]
    assert len(ports) == 1
    assert member.delete(f"{URL}/p-member").status_code == 204
    assert member.get(f"/v2.0/networks/{net['id']}").status_code == 404
    assert member.get("/v2.0/routers?name=auto_allocated_router").json()["routers"] == []


def test_listed(api):
    assert "auto-allocated-topology" in {e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}


def test_topology_from_the_default_subnet_pool(api):
    ext = api.network(**{"router:external": True, "is_default": True})
    api.subnet(ext["id"], "172.24.4.0/24")
    pool = api.post("/v2.0/subnetpools", {"subnetpool": {
        "name": "default-v4", "prefixes": ["10.160.0.0/16"], "default_prefixlen": 26, "is_default": True,
        "shared": True}}).json()["subnetpool"]  # fmt: skip
    member = api.as_project("p-member")
    assert member.get(f"{URL}/p-member?fields=dry-run").status_code == 200
    topo = member.get(f"{URL}/p-member").json()["auto_allocated_topology"]
    [subnet] = member.get(f"/v2.0/subnets?network_id={topo['id']}").json()["subnets"]
    assert subnet["subnetpool_id"] == pool["id"] and subnet["cidr"].endswith("/26")
    assert subnet["cidr"].startswith("10.160.")
    assert member.delete(f"{URL}/p-member").status_code == 204
