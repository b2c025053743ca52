"""flavors and service-type through the HTTP API: flavor and service profile CRUD, bindings,
next_providers, /v2.0/service-providers, policy (admin writes; profiles admin only) and
Neutron's errors (docs/neutron-behaviour.md, "Flavors and service types")."""

from __future__ import annotations

import pytest

from tests.api.ml2_support import ml2_server

pytestmark = pytest.mark.api

FLAVORS = "/v2.0/flavors"
PROFILES = "/v2.0/service_profiles"
SINGLE_NODE = "neutron.services.l3_router.service_providers.single_node.SingleNodeDriver"
MISSING = "00000000-0000-4000-8000-000000000000"


def _err(r):  # type: ignore[no-untyped-def]
    return r.status_code, r.json()["NeutronError"]["type"]


def _flavor(api, **attrs):  # type: ignore[no-untyped-def]
    r = api.post(FLAVORS, {"flavor": {"service_type": "L3_ROUTER_NAT", **attrs}})
    assert r.status_code == 201, r.text
    return r.json()["flavor"]


def _profile(api, **attrs):  # type: ignore[no-untyped-def]
    r = api.post(PROFILES, {"service_profile": attrs})
    assert r.status_code == 201, r.text
    return r.json()["service_profile"]


def test_flavor_crud_filters_and_policy(tmp_path, database_url):
    with ml2_server(tmp_path, database_url) as (api, _state):
        flavor = _flavor(api, name="gold", description="fast")
        assert flavor == {
            "id": flavor["id"], "name": "gold", "description": "fast", "service_type": "L3_ROUTER_NAT",
            "enabled": True, "service_profiles": [],
        }  # fmt: skip
        other = _flavor(api, name="tin", service_type="FLAVORS", enabled=False)
        assert other["enabled"] is False
        listed = api.get(FLAVORS, params={"service_type": "L3_ROUTER_NAT"}).json()["flavors"]
        assert [f["id"] for f in listed] == [flavor["id"]]
        assert api.get(FLAVORS, params={"id": "33"}).json()["flavors"] == []
        names = [f["name"] for f in api.get(FLAVORS, params={"sort_key": "name", "sort_dir": "desc"}).json()["flavors"]]
        assert names == ["tin", "gold"]
        page = api.get(FLAVORS, params={"limit": 1, "fields": "name"}).json()
        assert len(page["flavors"]) == 1 and set(page["flavors"][0]) == {"name"} and page["flavors_links"]

        r = api.put(f"{FLAVORS}/{flavor['id']}", {"flavor": {"enabled": False, "name": "silver"}})
        assert r.status_code == 200 and (r.json()["flavor"]["enabled"], r.json()["flavor"]["name"]) == (False, "silver")
        assert api.put(f"{FLAVORS}/{flavor['id']}", {"flavor": {"service_type": "QOS"}}).status_code == 400

        member = api.as_project("pa")
        assert {f["id"] for f in member.get(FLAVORS).json()["flavors"]} == {flavor["id"], other["id"]}
        assert member.get(f"{FLAVORS}/{flavor['id']}").json()["flavor"]["name"] == "silver"
        body = {"flavor": {"service_type": "L3_ROUTER_NAT"}}
        assert _err(member.post(FLAVORS, body)) == (403, "PolicyNotAuthorized")
        assert _err(member.put(f"{FLAVORS}/{flavor['id']}", {"flavor": {"name": "x"}})) == (403, "PolicyNotAuthorized")
        assert _err(member.delete(f"{FLAVORS}/{flavor['id']}")) == (403, "PolicyNotAuthorized")

        assert api.delete(f"{FLAVORS}/{flavor['id']}").status_code == 204
        assert _err(api.get(f"{FLAVORS}/{flavor['id']}")) == (404, "FlavorNotFound")
        assert _err(api.delete(f"{FLAVORS}/{flavor['id']}")) == (404, "FlavorNotFound")
        assert _err(api.put(f"{FLAVORS}/{MISSING}", {"flavor": {"name": "x"}})) == (404, "FlavorNotFound")


def test_flavor_refusals(tmp_path, database_url):
    with ml2_server(tmp_path, database_url) as (api, _state):
        assert _err(api.post(FLAVORS, {"flavor": {"service_type": "NOPE"}})) == (400, "InvalidServiceType")
        assert _err(api.post(FLAVORS, {"flavor": {"name": "no type"}})) == (400, "HTTPBadRequest")
        assert _err(api.post(FLAVORS, {"flavor": {"service_type": "QOS", "project_id": "x"}}))[0] == 400
        bad_list = {"flavor": {"service_type": "QOS", "service_profiles": ["not-a-uuid"]}}
        assert _err(api.post(FLAVORS, bad_list)) == (400, "HTTPBadRequest")
        assert _err(api.post(FLAVORS, {"flavor": {"service_type": "QOS", "name": "x" * 256}}))[0] == 400
        for name in (" lead", "trail ", "tab\tin", "nul\u0000"):  # neutron-lib's name_string
            assert _err(api.post(FLAVORS, {"flavor": {"service_type": "QOS", "name": name}}))[0] == 400, name
        assert _flavor(api, service_type="QOS", name="in between é")["name"] == "in between é"
        assert api.get(FLAVORS, params={"service_profiles": MISSING}).status_code == 400
        bulk = {"flavors": [{"service_type": "QOS"}, {"service_type": "QOS"}]}
        assert _err(api.post(FLAVORS, bulk)) == (400, "HTTPBadRequest")
        assert api.post(PROFILES, {"service_profiles": [{"metainfo": "m"}]}).status_code == 400
        assert len(api.get(FLAVORS).json()["flavors"]) == 1  # the valid name above


def test_flavors_follow_the_loaded_plugins(tmp_path, database_url):
    with ml2_server(tmp_path, database_url, service_plugins=["flavors"]) as (api, _state):
        assert _err(api.post(FLAVORS, {"flavor": {"service_type": "L3_ROUTER_NAT"}})) == (400, "InvalidServiceType")
        assert _flavor(api, service_type="FLAVORS")["service_type"] == "FLAVORS"
        assert api.get("/v2.0/service-providers").json() == {"service_providers": []}
        assert _err(api.post(PROFILES, {"service_profile": {"driver": SINGLE_NODE}})) == (
            404, "ServiceProfileDriverNotFound",
        )  # fmt: skip
    with ml2_server(tmp_path / "none", database_url, service_plugins=["router"]) as (api, _state):
        aliases = {e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}
        assert "flavors" not in aliases and "service-type" not in aliases
        assert api.get(FLAVORS).status_code == 404


def test_service_profile_crud_policy_and_errors(tmp_path, database_url):
    with ml2_server(tmp_path, database_url) as (api, _state):
        meta = _profile(api, description="d", metainfo='{"data": "value"}')
        assert meta == {"id": meta["id"], "description": "d", "driver": "", "enabled": True,
                        "metainfo": '{"data": "value"}'}
        driven = _profile(api, driver=SINGLE_NODE, enabled=False)
        assert (driven["driver"], driven["enabled"], driven["metainfo"]) == (SINGLE_NODE, False, "")
        assert _err(api.post(PROFILES, {"service_profile": {"description": "empty"}})) == (400, "ServiceProfileEmpty")
        assert _err(api.post(PROFILES, {"service_profile": {"driver": "no.such.Driver"}})) == (
            404, "ServiceProfileDriverNotFound",
        )  # fmt: skip
        assert [p["id"] for p in api.get(PROFILES, params={"driver": SINGLE_NODE}).json()["service_profiles"]] == [
            driven["id"]
        ]
        assert api.get(PROFILES, params={"id": "33"}).json()["service_profiles"] == []
        r = api.put(f"{PROFILES}/{meta['id']}", {"service_profile": {"enabled": False, "description": "e"}})
        assert r.status_code == 200 and r.json()["service_profile"]["enabled"] is False
        assert _err(api.put(f"{PROFILES}/{meta['id']}", {"service_profile": {"driver": "x.Y"}})) == (
            404, "ServiceProfileDriverNotFound",
        )  # fmt: skip

        member = api.as_project("pa")
        assert member.get(PROFILES).json()["service_profiles"] == []
        assert _err(member.get(f"{PROFILES}/{meta['id']}")) == (404, "ServiceProfileNotFound")
        assert _err(member.post(PROFILES, {"service_profile": {"metainfo": "m"}})) == (403, "PolicyNotAuthorized")
        assert _err(member.put(f"{PROFILES}/{meta['id']}", {"service_profile": {"description": "x"}}))[0] == 404
        assert _err(member.delete(f"{PROFILES}/{meta['id']}")) == (404, "ServiceProfileNotFound")

        assert api.delete(f"{PROFILES}/{meta['id']}").status_code == 204
        assert _err(api.get(f"{PROFILES}/{meta['id']}")) == (404, "ServiceProfileNotFound")


def test_bindings_next_providers_and_in_use(tmp_path, database_url):
    with ml2_server(tmp_path, database_url) as (api, _state):
        flavor = _flavor(api, name="f")
        profile = _profile(api, driver=SINGLE_NODE)
        path = f"{FLAVORS}/{flavor['id']}/service_profiles"
        assert _err(api.get(f"{FLAVORS}/{flavor['id']}/next_providers")) == (404, "FlavorServiceProfileBindingNotFound")
        member = api.as_project("pa")
        assert _err(member.post(path, {"service_profile": {"id": profile["id"]}})) == (403, "PolicyNotAuthorized")

        r = api.post(path, {"service_profile": {"id": profile["id"]}})
        assert r.status_code == 201 and r.json() == {"service_profile": {"id": flavor["id"]}}
        assert _err(api.post(path, {"service_profile": {"id": profile["id"]}})) == (
            409, "FlavorServiceProfileBindingExists",
        )  # fmt: skip
        assert _err(api.post(path, {"service_profile": {"id": MISSING}})) == (404, "ServiceProfileNotFound")
        assert _err(api.post(f"{FLAVORS}/{MISSING}/service_profiles", {"service_profile": {"id": profile["id"]}})) == (
            404, "FlavorNotFound",
        )  # fmt: skip
        assert api.post(path, {"nothing": {}}).status_code == 400
        assert _err(api.post(path, {"service_profile": {"id": "not-a-uuid"}})) == (400, "HTTPBadRequest")
        assert _err(api.post(path, {"service_profile": {}})) == (400, "HTTPBadRequest")
        assert api.get(f"{FLAVORS}/{flavor['id']}").json()["flavor"]["service_profiles"] == [profile["id"]]
        r = api.get(f"{FLAVORS}/{flavor['id']}/next_providers")
        assert r.json() == {"next_providers": [{"driver": SINGLE_NODE, "provider": "single_node"}]}
        assert member.get(f"{FLAVORS}/{flavor['id']}/next_providers").json() == {"next_providers": []}

        # a bound profile can be neither changed nor deleted
        sp = f"{PROFILES}/{profile['id']}"
        assert _err(api.put(sp, {"service_profile": {"description": "x"}})) == (409, "ServiceProfileInUse")
        assert _err(api.delete(sp)) == (409, "ServiceProfileInUse")

        assert _err(member.delete(f"{path}/{profile['id']}")) == (403, "PolicyNotAuthorized")
        assert api.delete(f"{path}/{profile['id']}").status_code == 204
        assert _err(api.delete(f"{path}/{profile['id']}")) == (404, "FlavorServiceProfileBindingNotFound")
        assert api.put(sp, {"service_profile": {"enabled": False}}).status_code == 200
        assert api.post(path, {"service_profile": {"id": profile["id"]}}).status_code == 201
        assert _err(api.get(f"{FLAVORS}/{flavor['id']}/next_providers")) == (503, "ServiceProfileDisabled")

        # deleting the flavor drops its bindings: the profile is free again
        assert api.delete(f"{FLAVORS}/{flavor['id']}").status_code == 204
        assert api.delete(sp).status_code == 204


def test_service_providers_list_what_the_l3_plugin_offers(tmp_path, database_url):
    with ml2_server(tmp_path, database_url) as (api, _state):
        member = api.as_project("pa")
        listed = member.get("/v2.0/service-providers").json()["service_providers"]
        assert listed == [
            {"service_type": "L3_ROUTER_NAT", "name": "ha", "default": False},
            {"service_type": "L3_ROUTER_NAT", "name": "single_node", "default": False},
        ]
        one = api.get("/v2.0/service-providers", params={"name": "ha", "fields": "name"}).json()
        assert one == {"service_providers": [{"name": "ha"}]}
        assert api.get("/v2.0/service-providers", params={"service_type": "QOS"}).json()["service_providers"] == []
        assert api.get("/v2.0/service-providers", params={"driver": "x"}).json()["service_providers"] == []
        by_driver = api.get("/v2.0/service-providers", params={"driver": SINGLE_NODE, "whatever": "1"}).json()
        assert [p["name"] for p in by_driver["service_providers"]] == ["single_node"]
        assert api.get("/v2.0/service-providers", params={"default": "true"}).json()["service_providers"] == []
        assert len(api.get("/v2.0/service-providers", params={"default": "False"}).json()["service_providers"]) == 2
        assert api.get("/v2.0/service-providers", params={"default": "maybe"}).json()["service_providers"] == []
        sort = {"sort_key": "name", "sort_dir": "asc"}
        assert _err(api.get("/v2.0/service-providers", params=sort)) == (400, "HTTPBadRequest")
        aliases = {e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}
        assert {"flavors", "service-type"} <= aliases
        collections = [r["collection"] for r in api.get("/v2.0/").json()["resources"]]
        assert {"flavors", "service_profiles", "service_providers", "subnetpools", "address_groups"} <= set(collections)
        assert len(collections) == len(set(collections))  # each once (a merge had nested two loops)
