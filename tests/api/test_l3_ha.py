"""HA routers (l3-ha): the admin-only ``ha`` attribute, its default from ``l3_ha``, conversion
only while down, the project's hidden HA network with a VRRP id per router, scheduling on
several L3 agents with one HA port each, and the ha_state agents report."""

from __future__ import annotations

import pytest

from neutrino.domain.services import l3_ha
from tests.api.agent_support import cfg_of, report, run

pytestmark = pytest.mark.api


def _error(r, status: int, type_: str) -> None:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.json()["NeutronError"]["type"] == type_, r.text


def _router(api, **attrs):  # type: ignore[no-untyped-def]
    r = api.post("/v2.0/routers", {"router": {"name": "r", **attrs}})
    assert r.status_code == 201, r.text
    return r.json()["router"]


def _ha_network(api, project: str):  # type: ignore[no-untyped-def]
    found = api.get(f"/v2.0/networks?name=HA network tenant {project}").json()["networks"]
    return found[0] if found else None


def test_ha_attribute_policy_and_default(api):
    member = api.as_project("p1")
    _error(member.post("/v2.0/routers", {"router": {"name": "x", "ha": True}}), 403, "PolicyNotAuthorized")
    mine = _router(member)
    assert "ha" not in mine  # hidden from the project
    assert api.get(f"/v2.0/routers/{mine['id']}").json()["router"]["ha"] is False  # l3_ha is off
    _error(member.put(f"/v2.0/routers/{mine['id']}", {"router": {"ha": True}}), 403, "PolicyNotAuthorized")
    ha = _router(api, ha=True, project_id="p1")
    assert ha["ha"] is True
    assert "ha" not in member.get(f"/v2.0/routers/{ha['id']}").json()["router"]
    _error(api.post("/v2.0/routers", {"router": {"ha": "maybe"}}), 400, "InvalidInput")


def test_ha_network_hidden_one_per_project_with_vrids(api):
    member = api.as_project("p2")
    first = _router(api, ha=True, project_id="p2")
    second = _router(api, ha=True, project_id="p2")
    net = _ha_network(api, "p2")
    assert net is not None and net["project_id"] == "" and net["provider:network_type"]
    [sub] = api.get(f"/v2.0/subnets?network_id={net['id']}").json()["subnets"]
    assert sub["cidr"] == "169.254.192.0/18" and sub["enable_dhcp"] is False and sub["gateway_ip"] is None
    assert member.get(f"/v2.0/networks/{net['id']}").status_code == 404
    vrids = run(api, lambda s: [s.get(l3_ha.HaRouter, r["id"]).vr_id for r in (first, second)])
    assert vrids == [1, 2]
    segment = net["provider:segmentation_id"]
    assert api.delete(f"/v2.0/routers/{first['id']}").status_code == 204
    kept = api.get(f"/v2.0/networks/{net['id']}").json()["network"]
    assert kept["provider:segmentation_id"] == segment
    third = _router(api, ha=True, project_id="p2")
    assert run(api, lambda s: s.get(l3_ha.HaRouter, third["id"]).vr_id) == 1  # the freed id
    for r in (second, third):
        assert api.delete(f"/v2.0/routers/{r['id']}").status_code == 204
    assert api.get(f"/v2.0/networks/{net['id']}").status_code == 404  # gone with the last


def test_convert_needs_admin_state_down(api):
    r = _router(api, ha=False)
    _error(api.put(f"/v2.0/routers/{r['id']}", {"router": {"ha": True}}), 400, "BadRequest")
    assert api.get(f"/v2.0/routers/{r['id']}").json()["router"]["ha"] is False
    up = api.put(f"/v2.0/routers/{r['id']}", {"router": {"ha": True, "admin_state_up": False}})
    assert up.status_code == 200 and up.json()["router"]["ha"] is True
    assert up.json()["router"]["revision_number"] > r["revision_number"]
    back = api.put(f"/v2.0/routers/{r['id']}", {"router": {"ha": False}})
    assert back.status_code == 200 and back.json()["router"]["ha"] is False
    assert _ha_network(api, r["project_id"]) is None


def test_l3_ha_setting_makes_new_routers_ha(api):
    from neutrino.domain.services import routers

    cfg = cfg_of(api, l3_ha=True)
    from neutrino.domain.context import Context

    made = run(api, lambda s: routers.create(s, Context.admin("p3"), cfg, {"project_id": "p3", "name": "d"}).id)
    assert api.get(f"/v2.0/routers/{made}").json()["router"]["ha"] is True


def test_ha_router_on_two_agents_with_ha_ports_and_states(api):
    for host in ("net1", "net2", "net3"):
        report(api, host, "l3", start=True)
    r = _router(api, ha=True)
    agents = api.get(f"/v2.0/routers/{r['id']}/l3-agents").json()["agents"]
    assert sorted(a["host"] for a in agents) == ["net1", "net2", "net3"]  # max_l3_agents_per_router 3
    assert {a["ha_state"] for a in agents} == {"standby"}
    ports = api.get(f"/v2.0/ports?device_id={r['id']}&device_owner=network:router_ha_interface").json()["ports"]
    assert sorted(p["binding:host_id"] for p in ports) == ["net1", "net2", "net3"]
    assert all(p["project_id"] == "" and p["fixed_ips"][0]["ip_address"].startswith("169.254.") for p in ports)
    changed = run(api, lambda s: l3_ha.update_states(s, cfg_of(api), "net2", {r["id"]: "master"}))
    assert changed == [r["id"]]
    states = {a["host"]: a["ha_state"] for a in api.get(f"/v2.0/routers/{r['id']}/l3-agents").json()["agents"]}
    assert states == {"net1": "standby", "net2": "active", "net3": "standby"}
    legacy = _router(api, ha=False)
    [one] = api.get(f"/v2.0/routers/{legacy['id']}/l3-agents").json()["agents"]
    assert "ha_state" not in one


def test_max_agents_and_later_agents(api):
    report(api, "net1", "l3", start=True)
    r = _router(api, ha=True)
    assert len(api.get(f"/v2.0/routers/{r['id']}/l3-agents").json()["agents"]) == 1
    report(api, "net2", "l3", start=True, cfg=cfg_of(api, max_l3_agents_per_router=2))
    hosts = sorted(a["host"] for a in api.get(f"/v2.0/routers/{r['id']}/l3-agents").json()["agents"])
    assert hosts == ["net1", "net2"]
    ports = api.get(f"/v2.0/ports?device_id={r['id']}&device_owner=network:router_ha_interface").json()["ports"]
    assert len(ports) == 2


def test_dead_active_agent_shown_standby_or_unknown(api):
    from tests.api.agent_support import ago

    report(api, "net1", "l3", start=True)
    report(api, "net2", "l3", start=True)
    r = _router(api, ha=True)
    run(api, lambda s: l3_ha.update_states(s, cfg_of(api), "net1", {r["id"]: "active"}))

    def shown():  # type: ignore[no-untyped-def]
        return {a["host"]: a["ha_state"] for a in api.get(f"/v2.0/routers/{r['id']}/l3-agents").json()["agents"]}

    assert shown() == {"net1": "active", "net2": "standby"}
    report(api, "net1", "l3", now=ago(100))  # net1 fell silent
    assert shown() == {"net1": "standby", "net2": "standby"}
    report(api, "net2", "l3", now=ago(100))
    assert shown() == {"net1": "unknown", "net2": "standby"}


def test_router_ports_follow_the_active_agent(api):
    for host in ("net1", "net2"):
        report(api, host, "ovs", start=True)
        report(api, host, "l3", start=True)
    r = _router(api, ha=True)
    net = api.network()
    sub = api.subnet(net["id"], "10.9.0.0/24")
    assert api.put(f"/v2.0/routers/{r['id']}/add_router_interface", {"subnet_id": sub["id"]}).status_code == 200

    def hosts():  # type: ignore[no-untyped-def]
        ports = api.get(f"/v2.0/ports?device_id={r['id']}&network_id={net['id']}").json()["ports"]
        return [p["binding:host_id"] for p in ports]

    assert hosts() == [""]  # no side is active yet
    run(api, lambda s: l3_ha.update_states(s, cfg_of(api), "net2", {r["id"]: "active"}))
    assert hosts() == ["net2"]
    run(api, lambda s: l3_ha.update_states(s, cfg_of(api), "net2", {r["id"]: "standby"}))
    run(api, lambda s: l3_ha.update_states(s, cfg_of(api), "net1", {r["id"]: "master"}))
    assert hosts() == ["net1"]


def test_ha_networks_count_against_no_quota(api):
    from neutrino.domain.context import Context
    from neutrino.domain.services import routers

    cfg = cfg_of(api, quotas={"network": 0, "subnet": 0, "router": 10})
    made = run(api, lambda s: routers.create(s, Context.admin("p9"), cfg, {"project_id": "p9", "ha": True}).id)
    assert _ha_network(api, "p9") is not None and api.get(f"/v2.0/routers/{made}").json()["router"]["ha"] is True


def test_ha_router_interfaces_are_replicated_and_migrate(api):
    r = _router(api, ha=False, admin_state_up=False)
    net = api.network()
    sub = api.subnet(net["id"], "10.8.0.0/24")
    added = api.put(f"/v2.0/routers/{r['id']}/add_router_interface", {"subnet_id": sub["id"]})
    assert added.status_code == 200, added.text

    def owners():  # type: ignore[no-untyped-def]
        return [p["device_owner"] for p in api.get(f"/v2.0/ports?device_id={r['id']}&network_id={net['id']}").json()["ports"]]

    assert owners() == ["network:router_interface"]
    assert api.put(f"/v2.0/routers/{r['id']}", {"router": {"ha": True}}).status_code == 200
    assert owners() == ["network:ha_router_replicated_interface"]
    other = api.subnet(api.network()["id"], "10.7.0.0/24")
    assert api.put(f"/v2.0/routers/{r['id']}/add_router_interface", {"subnet_id": other["id"]}).status_code == 200
    ports = api.get(f"/v2.0/ports?device_id={r['id']}&device_owner=network:ha_router_replicated_interface").json()["ports"]
    assert len(ports) == 2
    assert api.put(f"/v2.0/routers/{r['id']}", {"router": {"ha": False}}).status_code == 200
    assert owners() == ["network:router_interface"]
    gone = api.put(f"/v2.0/routers/{r['id']}/remove_router_interface", {"subnet_id": sub["id"]})
    assert gone.status_code == 200 and owners() == []


def test_ha_port_not_deleted_through_the_port_api(api):
    report(api, "net1", "l3", start=True)
    r = _router(api, ha=True)
    [port] = api.get(f"/v2.0/ports?device_id={r['id']}&device_owner=network:router_ha_interface").json()["ports"]
    _error(api.delete(f"/v2.0/ports/{port['id']}"), 409, "ServicePortInUse")
    assert api.delete(f"/v2.0/routers/{r['id']}").status_code == 204
    assert api.get(f"/v2.0/ports/{port['id']}").status_code == 404
