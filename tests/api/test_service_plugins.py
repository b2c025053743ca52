"""Service plugins decide what the API offers; a third-party package adds its own.

The third-party package is installed the way pip leaves a wheel (module plus ``.dist-info``
with entry points) in a directory put on ``sys.path``; nothing in neutrino names it.
"""

from __future__ import annotations

import sys

import pytest

from tests.api.ml2_support import ml2_server
from tests.fixtures import third_party

pytestmark = pytest.mark.api


def _aliases(api):  # type: ignore[no-untyped-def]
    return {e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}


def _collections(api):  # type: ignore[no-untyped-def]
    return {r["collection"] for r in api.get("/v2.0/").json()["resources"]}


def test_without_the_router_plugin_there_is_no_l3_api(tmp_path, database_url):
    with ml2_server(tmp_path, database_url, service_plugins=[]) as (api, _state):
        assert api.get("/v2.0/routers").status_code == 404
        assert api.post("/v2.0/floatingips", {"floatingip": {}}).status_code == 404
        assert "router" not in _aliases(api) and "extraroute" not in _aliases(api)
        assert "routers" not in _collections(api) and "networks" in _collections(api)
        assert api.get("/v2.0/extensions/router").status_code == 404
        net = api.network(name="n")  # the core API is unaffected
        assert api.port(net["id"], name="p")["name"] == "p"


def test_router_plugin_is_on_by_default(tmp_path, database_url):
    with ml2_server(tmp_path, database_url) as (api, _state):
        assert {"router", "ext-gw-mode", "extraroute", "extraroute-atomic"} <= _aliases(api)
        assert {"routers", "floatingips"} <= _collections(api)
        assert api.get("/v2.0/routers").json() == {"routers": []}


@pytest.fixture
def installed_package(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.syspath_prepend(str(third_party.install(tmp_path / "site")))
    yield
    sys.modules.pop("hello_neutrino", None)


def test_third_party_service_plugin_and_mechanism_driver(tmp_path, database_url, installed_package):
    with ml2_server(
        tmp_path,
        database_url,
        service_plugins=["router", "hello"],
        mechanism_drivers=["openvswitch", "hello_mech"],
    ) as (api, state):
        driver = type(state.domain.ml2.mechanism_drivers[-1])
        assert driver.__name__ == "HelloMechanismDriver"
        assert {"hello", "router"} <= _aliases(api)
        assert api.get("/v2.0/extensions/hello").json()["extension"]["name"] == "Hello"
        assert api.get("/v2.0/hellos").json()["hellos"][0]["greeting"] == "hello from a plugin"
        net = api.network(name="n")
        before = driver.created
        api.port(net["id"], name="fine")
        assert driver.created == before + 1
        refused = api.post("/v2.0/ports", {"port": {"network_id": net["id"], "name": "forbidden"}})
        assert refused.status_code == 400
        assert "the name 'forbidden' is refused" in refused.json()["NeutronError"]["message"]
        # refused inside the transaction: nothing half-written
        assert [p["name"] for p in api.get("/v2.0/ports").json()["ports"]] == ["fine"]


def test_unknown_service_plugin_stops_the_build(tmp_path, database_url):
    from neutrino.entrypoints import LoadError

    with pytest.raises(LoadError, match="unknown service plugin 'nope'"):
        with ml2_server(tmp_path, database_url, service_plugins=["nope"]):
            pass
