"""Trunks through the HTTP API: Neutron's shapes, statuses and errors (trunk, trunk-details)."""

from __future__ import annotations

import pytest

from neutrino.contract.desired import TrunkSubPort
from neutrino.db.engine import run_in_transaction
from neutrino.domain.projection import project_host
from tests.api.ml2_support import add_agent, ml2_server

pytestmark = pytest.mark.api


def _sub(port_id: str, seg: int | None = 2, seg_type: str | None = "vlan") -> dict:  # type: ignore[type-arg]
    out: dict = {"port_id": port_id}  # type: ignore[type-arg]
    if seg_type is not None:
        out["segmentation_type"] = seg_type
    if seg is not None:
        out["segmentation_id"] = seg
    return out


def _trunk(api, port_id, subports=None, **attrs):  # type: ignore[no-untyped-def]
    body = {"port_id": port_id, **attrs}
    if subports is not None:
        body["sub_ports"] = subports
    return api.post("/v2.0/trunks", {"trunk": body})


def _fault(r, status, type_):  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.json()["NeutronError"]["type"] == type_, r.text


def test_create_show_list_update_delete(tmp_path, database_url):
    with ml2_server(tmp_path, database_url) as (api, _):
        assert {"trunk", "trunk-details"} <= {e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}
        net, other = api.network(), api.network()
        parent, sub = api.port(net["id"]), api.port(other["id"])
        r = _trunk(api, parent["id"], [_sub(sub["id"], 101)], name="t", description="d")
        assert r.status_code == 201, r.text
        trunk = r.json()["trunk"]
        assert trunk["status"] == "DOWN" and trunk["admin_state_up"] is True and trunk["revision_number"] == 0
        assert trunk["sub_ports"] == [{"segmentation_id": 101, "segmentation_type": "vlan", "port_id": sub["id"]}]
        assert trunk["project_id"] == trunk["tenant_id"] == "p-admin" and trunk["tags"] == []
        assert api.get(f"/v2.0/trunks/{trunk['id']}").json()["trunk"] == trunk
        assert [t["id"] for t in api.get("/v2.0/trunks?name=t").json()["trunks"]] == [trunk["id"]]
        shown = api.get(f"/v2.0/ports/{parent['id']}").json()["port"]
        assert shown["trunk_details"] == {"trunk_id": trunk["id"], "sub_ports": [
            {"segmentation_id": 101, "segmentation_type": "vlan", "port_id": sub["id"], "mac_address": sub["mac_address"]}]}
        assert "trunk_details" not in api.get(f"/v2.0/ports/{sub['id']}").json()["port"]
        up = api.put(f"/v2.0/trunks/{trunk['id']}", {"trunk": {"name": "u", "admin_state_up": False}}).json()["trunk"]
        assert up["name"] == "u" and up["admin_state_up"] is False and up["revision_number"] > 0
        _fault(api.delete(f"/v2.0/trunks/{trunk['id']}"), 409, "TrunkDisabled")
        api.put(f"/v2.0/trunks/{trunk['id']}", {"trunk": {"admin_state_up": True}})
        _fault(api.delete(f"/v2.0/ports/{parent['id']}"), 409, "PortInUseAsTrunkParent")
        _fault(api.delete(f"/v2.0/ports/{sub['id']}"), 409, "PortInUseAsSubPort")
        assert api.delete(f"/v2.0/trunks/{trunk['id']}").status_code == 204
        _fault(api.get(f"/v2.0/trunks/{trunk['id']}"), 404, "TrunkNotFound")
        assert api.delete(f"/v2.0/ports/{sub['id']}").status_code == 204


def test_add_remove_get_subports(tmp_path, database_url):
    with ml2_server(tmp_path, database_url) as (api, _):
        parent = api.port(api.network()["id"])
        trunk = _trunk(api, parent["id"]).json()["trunk"]
        s1, s2 = api.port(api.network()["id"]), api.port(api.network()["id"])
        base = f"/v2.0/trunks/{trunk['id']}"
        r = api.put(base + "/add_subports", {"sub_ports": [_sub(s1["id"], 2)]})
        assert r.status_code == 200 and r.json()["sub_ports"] == [_sub(s1["id"], 2)], r.text
        _fault(api.put(base + "/add_subports", {"sub_ports": [_sub(s2["id"], 2)]}), 409, "DuplicateSubPort")
        _fault(api.put(base + "/add_subports", {"sub_ports": [_sub(s1["id"], 3)]}), 409, "TrunkPortInUse")
        _fault(api.put(base + "/add_subports", {"sub_ports": [_sub(parent["id"], 3)]}), 409, "ParentPortInUse")
        _fault(api.put(base + "/add_subports", _sub(s2["id"], 3)), 400, "InvalidInput")
        _fault(api.put(base + "/add_subports", {"sub_ports": [_sub(s2["id"], None)]}), 400, "InvalidInput")
        _fault(api.put(base + "/add_subports", {"sub_ports": [_sub(s2["id"], 4095)]}), 400, "InvalidInput")
        _fault(api.put(base + "/add_subports", {"sub_ports": [_sub(s2["id"], 5, "vxlan")]}), 400, "InvalidInput")
        _fault(api.put(base + "/add_subports", {"sub_ports": [_sub("6c9c5126-4f61-11e6-8248-40a8f063c891", 5)]}),
               404, "PortNotFound")
        assert api.put(base + "/add_subports", {"sub_ports": [_sub(s2["id"], 4)]}).status_code == 200
        assert api.get(base + "/get_subports").json() == {"sub_ports": [_sub(s1["id"], 2), _sub(s2["id"], 4)]}
        _fault(api.put(base + "/remove_subports", {"sub_ports": [{"port_id": parent["id"]}]}), 404, "SubPortNotFound")
        r = api.put(base + "/remove_subports", {"sub_ports": [_sub(s2["id"], 4)]})
        assert r.json()["sub_ports"] == [_sub(s1["id"], 2)]
        assert api.get(f"/v2.0/ports/{s2['id']}").json()["port"]["device_owner"] == ""
        _fault(api.put("/v2.0/trunks/6c9c5126-4f61-11e6-8248-40a8f063c891/add_subports",
                       {"sub_ports": [_sub(s2["id"], 4)]}), 404, "TrunkNotFound")


def test_create_errors(tmp_path, database_url):
    with ml2_server(tmp_path, database_url) as (api, _):
        net = api.network()
        parent, s1, s2 = api.port(net["id"]), api.port(api.network()["id"]), api.port(api.network()["id"])
        _fault(_trunk(api, "6c9c5126-4f61-11e6-8248-40a8f063c891", []), 404, "PortNotFound")
        # the sub_ports attribute is checked by the API layer: HTTPBadRequest, as Neutron's
        _fault(_trunk(api, parent["id"], [_sub(s1["id"], 2), _sub(s2["id"], 2)]), 400, "HTTPBadRequest")
        _fault(_trunk(api, parent["id"], [_sub(s1["id"], None)]), 400, "HTTPBadRequest")
        _fault(_trunk(api, parent["id"], [{"segmentation_type": "vlan", "segmentation_id": 3}]), 400, "HTTPBadRequest")
        _fault(_trunk(api, parent["id"], [{"port_id": s1["id"]}]), 400, "InvalidInput")
        owned = api.port(api.network()["id"], device_id="vm-1")
        _fault(_trunk(api, parent["id"], [_sub(owned["id"], 3)]), 409, "PortInUse")
        assert _trunk(api, parent["id"]).status_code == 201
        _fault(_trunk(api, parent["id"]), 409, "ParentPortInUse")
        bound = api.port(net["id"], **{"binding:host_id": "h1"})
        _fault(_trunk(api, bound["id"]), 409, "ParentPortInUse")


def test_inherit_and_mtu(tmp_path, database_url):
    with ml2_server(tmp_path, database_url) as (api, _):
        vlan = api.network(**{"provider:network_type": "vlan", "provider:physical_network": "physnet1"})
        vxlan = api.network(**{"provider:network_type": "vxlan"})
        parent = api.port(vlan["id"])
        sub = api.port(api.network(**{"provider:network_type": "vlan", "provider:physical_network": "physnet1"})["id"])
        seg = api.get(f"/v2.0/networks/{sub['network_id']}").json()["network"]["provider:segmentation_id"]
        trunk = _trunk(api, parent["id"], [{"port_id": sub["id"], "segmentation_type": "inherit"}]).json()["trunk"]
        assert trunk["sub_ports"] == [_sub(sub["id"], seg)]
        small = api.port(vxlan["id"])
        big = api.port(vlan["id"])
        _fault(_trunk(api, small["id"], [_sub(big["id"], 7)]), 409, "SubPortMtuGreaterThanTrunkPortMtu")
        t2 = _trunk(api, small["id"]).json()["trunk"]
        inherit = {"sub_ports": [{"port_id": api.port(vxlan["id"])["id"], "segmentation_type": "inherit"}]}
        _fault(api.put(f"/v2.0/trunks/{t2['id']}/add_subports", inherit), 400, "InvalidInput")


def test_subports_follow_the_parent_binding_and_status(tmp_path, database_url):
    with ml2_server(tmp_path, database_url) as (api, state):
        add_agent(state, "h1", bridge_mappings={"physnet1": "br-eth1"}, tunnel_types=["vxlan"], tunnel_ip="10.9.0.1")
        parent, sub = api.port(api.network()["id"]), api.port(api.network()["id"])
        trunk = _trunk(api, parent["id"], [_sub(sub["id"], 10)]).json()["trunk"]
        api.put(f"/v2.0/ports/{parent['id']}", {"port": {"binding:host_id": "h1"}})
        shown = api.get(f"/v2.0/ports/{sub['id']}").json()["port"]
        assert shown["binding:host_id"] == "h1" and shown["device_owner"] == "trunk:subport"
        assert shown["binding:vif_type"] == "ovs"
        assert api.get(f"/v2.0/trunks/{trunk['id']}").json()["trunk"]["status"] == "BUILD"
        _fault(api.delete(f"/v2.0/trunks/{trunk['id']}"), 409, "TrunkInUse")
        host = run_in_transaction(state.sessions, lambda s: project_host(s, "h1"))
        assert [(t.trunk_id, t.parent_port_id, t.parent_mac) for t in host.trunks] == [
            (trunk["id"], parent["id"], parent["mac_address"])]
        assert host.trunks[0].subports == (TrunkSubPort(sub["id"], sub["mac_address"], 10),)
        assert {p.port_id for p in host.ports} == {parent["id"], sub["id"]}
        late = api.port(api.network()["id"])
        api.put(f"/v2.0/trunks/{trunk['id']}/add_subports", {"sub_ports": [_sub(late["id"], 11)]})
        assert api.get(f"/v2.0/ports/{late['id']}").json()["port"]["binding:host_id"] == "h1"
        api.put(f"/v2.0/ports/{parent['id']}", {"port": {"binding:host_id": ""}})
        assert api.get(f"/v2.0/ports/{sub['id']}").json()["port"]["binding:host_id"] == ""
        assert api.get(f"/v2.0/trunks/{trunk['id']}").json()["trunk"]["status"] == "DOWN"
        assert api.delete(f"/v2.0/trunks/{trunk['id']}").status_code == 204


def test_other_projects_do_not_see_trunks(tmp_path, database_url):
    with ml2_server(tmp_path, database_url) as (api, _):
        trunk = _trunk(api, api.port(api.network()["id"])["id"]).json()["trunk"]
        other = api.as_project("p-other")
        _fault(other.get(f"/v2.0/trunks/{trunk['id']}"), 404, "TrunkNotFound")
        assert other.get("/v2.0/trunks").json()["trunks"] == []
        _fault(other.delete(f"/v2.0/trunks/{trunk['id']}"), 404, "TrunkNotFound")
